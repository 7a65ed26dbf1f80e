"""Who reaches a chat in a shared project over HTTP (Conversation.reachable_by): readers read it,
collaborators read it too, everyone else gets 404; management stays its owner's."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Message

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def answered(filed):
    question = Message.objects.create(conversation=filed, role="user", content="What ships?")
    Message.objects.create(conversation=filed, role="assistant", content="The rocket.", parent=question)
    return filed


def test_a_reader_sees_the_chat_read_only(bob, readers, answered):
    page = client_of(bob).get(f"/c/{answered.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "The rocket." in html and '"read_only": true' in html
    assert 'id="composer" class="composer" autocomplete="off" hidden inert' in html
    assert "shared with your group" in html
    thread = client_of(bob).get(f"/c/{answered.pk}/thread.json").json()["messages"]
    assert [m["content"] for m in thread] == ["What ships?", "The rocket."]
    assert client_of(bob).get(f"/c/{answered.pk}/export.md").status_code == 200


def test_a_collaborator_sees_the_chat_with_a_composer_and_the_notice(carol, collaborators, answered):
    html = client_of(carol).get(f"/c/{answered.pk}/").content.decode()
    assert '"read_only": false' in html and "hidden inert" not in html
    assert "its collaborators can continue it" in html
    counted = client_of(carol).post("/c/count.json", {"conversation": answered.pk, "draft": "Next?"})
    assert counted.status_code == 200


def test_the_owner_is_told_who_can_see_a_shared_projects_chat(alice, readers, answered):
    html = client_of(alice).get(f"/c/{answered.pk}/").content.decode()
    assert "the groups it is shared with can see it" in html


@pytest.mark.parametrize(
    "url", ["/c/{pk}/", "/c/{pk}/thread.json", "/c/{pk}/export.json", "/c/{pk}/export.md"]
)
def test_a_group_outside_the_share_gets_404(dave, outsiders, readers, collaborators, answered, url):
    assert client_of(dave).get(url.format(pk=answered.pk)).status_code == 404


def test_others_see_404_for_the_project_page_and_the_count(dave, outsiders, bob, readers, project, answered):
    assert client_of(dave).get(f"/p/{project.pk}/").status_code == 404
    assert client_of(dave).post("/c/count.json", {"conversation": answered.pk}).status_code == 404
    # A reader cannot count a send either: they cannot send.
    assert client_of(bob).post("/c/count.json", {"conversation": answered.pk}).status_code == 404


def test_the_project_page_lists_the_chats_for_a_reader(bob, readers, project, answered):
    html = client_of(bob).get(f"/p/{project.pk}/").content.decode()
    assert f'href="/c/{answered.pk}/"' in html and "you can read its chats" in html
    assert "project-instructions" not in html  # the instructions form is the owner's


def test_rename_delete_pin_and_archive_stay_the_owners(carol, collaborators, answered):
    client = client_of(carol)
    assert client.post(f"/c/{answered.pk}/update/", {"title": "Mine"}).status_code == 404
    assert client.post(f"/c/{answered.pk}/update/", {"pinned": "1"}).status_code == 404
    assert client.post(f"/c/{answered.pk}/delete/").status_code == 404
    answered.refresh_from_db()
    assert answered.title == "Plan" and not answered.pinned


def test_a_new_chat_page_in_a_project_says_so_and_only_in_a_project_one_may_write_in(
    alice, bob, readers, carol, collaborators, project
):
    html = client_of(carol).get(f"/?project={project.pk}").content.decode()
    assert f'"project": {project.pk}' in html and "A new chat in the project" in html
    html = client_of(bob).get(f"/?project={project.pk}").content.decode()
    assert '"project": null' in html and "A new chat in the project" not in html
    assert "New chat in this project" not in html  # a reader's sidebar does not offer it
    assert client_of(alice).get("/?project=x").status_code == 200
