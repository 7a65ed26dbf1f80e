"""The settings page (a member's own key and defaults) and a conversation's own settings."""

from __future__ import annotations

import json

import pytest

from chat.models import ApiKey, ChatModel, Conversation, Preferences, SiteSettings
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def page(client) -> str:
    return client.get("/settings/").content.decode()


def shown(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_settings_page_needs_a_log_in(client):
    assert client.get("/settings/").status_code == 302


def test_the_top_bar_leads_to_the_settings(as_alice):
    assert 'href="/settings/"' in as_alice.get("/").content.decode()


def test_a_member_sets_their_own_key_and_it_is_never_shown(as_alice, alice, team_key):
    assert "use the team key" in page(as_alice) and team_key.masked in page(as_alice)
    response = as_alice.post("/settings/key/", {"secret": CANARY_KEY}, follow=True)
    assert ApiKey.objects.for_user(alice).reveal() == CANARY_KEY
    assert ApiKey.objects.for_user(alice).user == alice
    body = response.content.decode()
    assert CANARY_KEY not in body and "sk-…" + CANARY_KEY[-4:] in body
    assert CANARY_KEY not in page(as_alice) and CANARY_KEY not in as_alice.get("/").content.decode()


def test_a_refused_key_is_not_shown_back(as_alice, alice):
    response = as_alice.post("/settings/key/", {"secret": "sk-with space-0123456789"})
    body = response.content.decode()
    assert response.status_code == 400 and "does not look like an API key" in body
    assert "sk-with space" not in body and not ApiKey.objects.filter(user=alice).exists()


def test_a_member_tests_their_key(as_alice, alice, fake):
    ApiKey.store(CANARY_KEY, user=alice)
    response = as_alice.post("/settings/key/test/", follow=True)
    assert any(": ok." in m for m in shown(response))
    assert "check-ok" in response.content.decode()
    ApiKey.store("sk-bad-key-00000000", user=alice)
    response = as_alice.post("/settings/key/test/", follow=True)
    assert any("rejected" in m for m in shown(response))
    assert ApiKey.objects.get(user=alice).check_result == "rejected"


def test_testing_without_a_key_of_ones_own_is_not_found(as_alice, team_key, fake):
    assert as_alice.post("/settings/key/test/").status_code == 404
    assert fake.requests == []  # the team key is the admins' to test


def test_a_member_deletes_their_key_and_falls_back_to_the_team_key(as_alice, alice, team_key):
    ApiKey.store("sk-alice-own-key-4321", user=alice)
    as_alice.post("/settings/key/delete/")
    assert ApiKey.objects.for_user(alice) == team_key


def test_with_self_service_off_only_admins_set_keys(as_alice, alice):
    SiteSettings.objects.update_or_create(pk=1, defaults={"self_service_keys": False})
    body = page(as_alice)
    assert "admins set the API keys" in body and 'name="secret"' not in body
    for url in ("/settings/key/", "/settings/key/test/", "/settings/key/delete/"):
        assert as_alice.post(url, {"secret": CANARY_KEY}).status_code == 404
    assert not ApiKey.objects.exists()


def test_the_key_forms_need_a_post(as_alice):
    for url in ("/settings/key/", "/settings/key/test/", "/settings/key/delete/", "/settings/preferences/"):
        assert as_alice.get(url).status_code == 405


def test_a_member_chooses_a_default_model_and_system_prompt(as_alice, alice):
    o3 = ChatModel.objects.get(name="o3")
    as_alice.post("/settings/preferences/", {"default_model": o3.pk, "system_prompt": "Answer in French."})
    preferences = Preferences.of(alice)
    assert preferences.default_model == o3 and preferences.system_prompt == "Answer in French."
    chat = as_alice.get("/").content.decode()
    assert 'value="o3" selected' in chat and "Answer in French." in chat


def test_only_a_model_the_member_may_use_can_be_their_default(as_alice, alice, bob):
    from django.contrib.auth.models import Group

    research = Group.objects.create(name="Research")
    research.user_set.add(bob)
    o3 = ChatModel.objects.get(name="o3")
    o3.groups.add(research)
    response = as_alice.post("/settings/preferences/", {"default_model": o3.pk, "system_prompt": ""})
    assert response.status_code == 400 and not Preferences.objects.filter(user=alice).exists()
    assert 'value="' + str(o3.pk) + '"' not in page(as_alice)


def test_the_picker_shows_only_the_models_the_member_may_use(as_alice, alice):
    from django.contrib.auth.models import Group

    from chat.models import ModelLimit

    interns = Group.objects.create(name="Interns")
    interns.user_set.add(alice)
    ModelLimit.objects.create(group=interns).allowed_models.set(ChatModel.objects.filter(name="o3"))
    chat = as_alice.get("/").content.decode()
    picker = chat[chat.index('<select id="model-select"') :]
    picker = picker[: picker.index("</select>")]  # the top bar's theme switch has options of its own
    assert picker.count("<option value=") == 1 and '<option value="o3" selected' in picker


# A conversation's own settings ------------------------------------------------------------------


@pytest.fixture
def talk(alice):
    return Conversation.objects.create(owner=alice, title="t", model="gpt-4.1", system_prompt="Old prompt.")


def test_a_conversation_keeps_its_own_system_prompt_and_model(as_alice, talk):
    url = f"/c/{talk.pk}/settings/"
    response = as_alice.post(url, {"system_prompt": "New prompt."}, HTTP_ACCEPT="application/json")
    assert json.loads(response.content) == {"model": "gpt-4.1", "system_prompt": "New prompt."}
    as_alice.post(url, {"model": "o3"}, HTTP_ACCEPT="application/json")
    talk.refresh_from_db()
    assert (talk.model, talk.system_prompt) == ("o3", "New prompt.")
    page_ = as_alice.get(f"/c/{talk.pk}/").content.decode()
    assert "New prompt." in page_ and 'value="o3" selected' in page_


def test_without_javascript_the_form_posts_and_comes_back(as_alice, talk):
    response = as_alice.post(f"/c/{talk.pk}/settings/", {"system_prompt": ""})
    assert response.status_code == 302 and response["Location"] == f"/c/{talk.pk}/"
    talk.refresh_from_db()
    assert talk.system_prompt == ""


def test_a_model_the_member_may_not_use_is_refused(as_alice, talk):
    ChatModel.objects.filter(name="o3").update(enabled=False)
    response = as_alice.post(f"/c/{talk.pk}/settings/", {"model": "o3"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "model" in json.loads(response.content)["errors"]
    talk.refresh_from_db()
    assert talk.model == "gpt-4.1"


def test_someone_elses_conversation_settings_are_not_found(client, bob, talk):
    client.force_login(bob)
    assert client.post(f"/c/{talk.pk}/settings/", {"system_prompt": "mine now"}).status_code == 404
    talk.refresh_from_db()
    assert talk.system_prompt == "Old prompt."
