"""The gallery's permission boundaries: publish_assistant to share, use_assistant to use a shared one,
another member's assistant as missing, and the form's checks (chat/assistants/views.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Assistant
from tests.assistants.conftest import grant, make

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(**changes) -> dict:
    data = {
        "name": "Translator",
        "icon": "🌐",
        "model": "gpt-4.1",
        "system_prompt": "Translate.",
        "visibility": "personal",
    }
    return {**data, **changes}


def test_a_member_creates_a_personal_assistant_as_its_first_version(alice):
    response = client_of(alice).post("/assistants/new/", form(temperature="0.3"))
    assert response.status_code == 302
    assistant = Assistant.objects.get(owner=alice)
    assert (assistant.name, assistant.icon, assistant.version) == ("Translator", "🌐", 1)
    assert assistant.parameters == {"temperature": 0.3}
    assert assistant.versions.get().snapshot["system_prompt"] == "Translate."


def test_a_member_without_publish_cannot_share_with_the_team_or_a_group(alice, writers):
    client = client_of(alice)
    team = client.post("/assistants/new/", form(visibility="team"))
    groups = client.post("/assistants/new/", form(visibility="groups", groups=[writers.pk]))
    assert (team.status_code, groups.status_code) == (403, 403)
    assert not Assistant.objects.exists()
    # Nor by editing one of their own.
    mine = make(alice)
    assert client.post(f"/assistants/{mine.pk}/edit/", form(visibility="team")).status_code == 403
    mine.refresh_from_db()
    assert (mine.visibility, mine.version) == ("personal", 1)


def test_the_form_hides_sharing_from_a_member_without_publish(alice):
    page = client_of(alice).get("/assistants/new/").content.decode()
    assert 'name="visibility" value="personal"' in page and 'type="checkbox" name="groups"' not in page


def test_a_publisher_shares_with_a_group_whose_members_with_use_see_and_start_it(alice, bob, carol, writers):
    grant(alice, "publish_assistant")
    grant(bob, "use_assistant")
    grant(carol, "use_assistant")
    response = client_of(alice).post("/assistants/new/", form(visibility="groups", groups=[writers.pk]))
    assert response.status_code == 302
    assistant = Assistant.objects.get()
    assert list(assistant.groups.all()) == [writers]
    listed = client_of(bob).get("/assistants/list.json").json()["assistants"]
    assert [(a["id"], a["mine"]) for a in listed] == [(assistant.pk, False)]
    assert "Translator" in client_of(bob).get("/assistants/").content.decode()
    # carol is outside the group: not listed, and its pages are missing for her.
    assert client_of(carol).get("/assistants/list.json").json()["assistants"] == []
    assert "Translator" not in client_of(carol).get("/assistants/").content.decode()
    assert client_of(carol).get(f"/assistants/{assistant.pk}/edit/").status_code == 404


def test_a_shared_assistant_needs_use_assistant(alice, bob, writers):
    grant(alice, "publish_assistant")
    make(alice, visibility="team")
    assert client_of(bob).get("/assistants/list.json").json()["assistants"] == []
    grant(bob, "use_assistant")
    bob = type(bob).objects.get(pk=bob.pk)  # permissions are cached per user object
    assert len(client_of(bob).get("/assistants/list.json").json()["assistants"]) == 1


def test_only_the_owner_edits_sees_the_history_rolls_back_or_deletes(alice, bob):
    grant(bob, "use_assistant")
    grant(alice, "publish_assistant")
    assistant = make(alice, visibility="team")
    client = client_of(bob)
    for url in ("edit/", "history/"):
        assert client.get(f"/assistants/{assistant.pk}/{url}").status_code == 404
    assert client.post(f"/assistants/{assistant.pk}/edit/", form(name="Mine now")).status_code == 404
    assert client.post(f"/assistants/{assistant.pk}/roll-back/1/").status_code == 404
    assert client.post(f"/assistants/{assistant.pk}/delete/").status_code == 404
    assert Assistant.objects.get().name == "Editor"


def test_every_save_is_a_version_and_a_roll_back_is_a_new_one(alice):
    client = client_of(alice)
    client.post("/assistants/new/", form(system_prompt="First."))
    assistant = Assistant.objects.get()
    client.post(f"/assistants/{assistant.pk}/edit/", form(system_prompt="Second.", name="Renamed"))
    assert client.get(f"/assistants/{assistant.pk}/history/").status_code == 200
    response = client.post(f"/assistants/{assistant.pk}/roll-back/1/")
    assert response.status_code == 302
    assistant.refresh_from_db()
    assert (assistant.version, assistant.name, assistant.system_prompt) == (3, "Translator", "First.")
    assert list(assistant.versions.values_list("number", flat=True)) == [3, 2, 1]
    assert client.post(f"/assistants/{assistant.pk}/roll-back/9/").status_code == 404


def test_rolling_back_to_a_shared_version_needs_publish(alice):
    grant(alice, "publish_assistant")
    assistant = make(alice, visibility="team")
    assistant.visibility = "personal"
    assistant.save_version(alice)
    alice.user_permissions.clear()
    response = client_of(type(alice).objects.get(pk=alice.pk)).post(
        f"/assistants/{assistant.pk}/roll-back/1/"
    )
    assert response.status_code == 403
    assistant.refresh_from_db()
    assert (assistant.visibility, assistant.version) == ("personal", 2)


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"model": "no-such-model"},
        {"icon": "<b>"},
        {"icon": "far too long"},
        {"temperature": "9"},
        {"model": "gpt-5", "temperature": "0.5"},  # a reasoning model takes none
        {"reasoning_effort": "high"},  # gpt-4.1 takes no effort
        {"max_tokens": "-1"},
        {"visibility": "everyone"},
    ],
)
def test_bad_input_is_a_400_with_the_field_said(alice, changes):
    response = client_of(alice).post("/assistants/new/", form(**changes))
    assert response.status_code == 400
    assert b"field-error" in response.content
    assert not Assistant.objects.exists()


def test_sharing_with_groups_needs_a_group_and_one_of_ones_own(alice, carol, writers):
    grant(carol, "publish_assistant")
    client = client_of(carol)
    assert client.post("/assistants/new/", form(visibility="groups")).status_code == 400
    # carol is not in "writers": she cannot share with it.
    assert client.post("/assistants/new/", form(visibility="groups", groups=[writers.pk])).status_code == 400
    assert not Assistant.objects.exists()


def test_deleting_keeps_the_name_on_its_conversations(alice):
    from chat.models import Conversation

    assistant = make(alice)
    conversation = Conversation.objects.create(
        owner=alice, model="gpt-4.1", assistant=assistant, assistant_name="Editor"
    )
    assert client_of(alice).post(f"/assistants/{assistant.pk}/delete/").status_code == 302
    conversation.refresh_from_db()
    assert (conversation.assistant, conversation.assistant_name) == (None, "Editor")


def test_pages_need_a_signed_in_member(client):
    assert client.get("/assistants/").status_code == 302
    assert client.get("/assistants/list.json").status_code == 302
