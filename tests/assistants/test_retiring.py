"""Retiring a model in one admin step moves its assistants to a replacement, and members keep using them
(the LibreChat #28181 failure: non-admins losing the model behind a shared preset)."""

from __future__ import annotations

import pytest

from chat.models import Assistant, ChatModel
from tests.assistants.conftest import grant, make

pytestmark = pytest.mark.django_db


def retire(admin_client, names: list[str], replacement: ChatModel | None = None, follow: bool = True):
    ids = list(ChatModel.objects.filter(name__in=names).values_list("pk", flat=True))
    data = {"action": "retire_and_move", "_selected_action": ids}
    if replacement is not None:
        data |= {"apply": "1", "replacement": replacement.pk}
    return admin_client.post("/admin/chat/chatmodel/", data, follow=follow)


def test_the_action_asks_for_the_replacement_first(admin_client, alice):
    make(alice, model="gpt-4.1-mini")
    page = retire(admin_client, ["gpt-4.1-mini"]).content.decode()
    assert "Retire models and move their assistants" in page and "1 assistant" in page
    assert ChatModel.objects.get(name="gpt-4.1-mini").enabled
    assert Assistant.objects.get().model == "gpt-4.1-mini"


def test_retiring_disables_the_model_and_moves_every_assistant_as_a_new_version(admin_client, alice, bob):
    grant(alice, "publish_assistant")
    shared = make(alice, model="gpt-4.1-mini", visibility="team")
    personal = make(bob, model="gpt-4.1-mini")
    other = make(bob, model="gpt-5")
    replacement = ChatModel.objects.get(name="gpt-4.1")
    page = retire(admin_client, ["gpt-4.1-mini"], replacement).content.decode()
    assert "2 assistants now use gpt-4.1" in page
    assert not ChatModel.objects.get(name="gpt-4.1-mini").enabled
    for assistant in (shared, personal):
        assistant.refresh_from_db()
        assert (assistant.model, assistant.moved_from, assistant.version) == ("gpt-4.1", "gpt-4.1-mini", 2)
        assert assistant.versions.first().note == "moved from gpt-4.1-mini"
    other.refresh_from_db()
    assert (other.model, other.version) == ("gpt-5", 1)


def test_the_replacement_must_be_enabled_and_not_one_of_those_retired(admin_client, alice):
    make(alice, model="gpt-4.1-mini")
    ChatModel.objects.filter(name="o3").update(enabled=False)
    for replacement in ("o3", "gpt-4.1-mini"):
        response = retire(admin_client, ["gpt-4.1-mini"], ChatModel.objects.get(name=replacement))
        assert response.status_code == 200 and b"errorlist" in response.content
    assert ChatModel.objects.get(name="gpt-4.1-mini").enabled
    assert Assistant.objects.get().model == "gpt-4.1-mini"


def test_the_default_model_is_not_retired(admin_client):
    default = ChatModel.objects.get(is_default=True)
    other = ChatModel.objects.exclude(pk=default.pk).filter(enabled=True).first()
    page = retire(admin_client, [default.name], other).content.decode()
    assert "cannot be retired" in page
    assert ChatModel.objects.get(pk=default.pk).enabled


def test_a_member_without_change_permission_has_no_such_action(client, alice):
    alice.is_staff = True
    alice.save()
    client.force_login(alice)
    ids = list(ChatModel.objects.filter(name="gpt-4.1-mini").values_list("pk", flat=True))
    client.post("/admin/chat/chatmodel/", {"action": "retire_and_move", "_selected_action": ids})
    assert ChatModel.objects.get(name="gpt-4.1-mini").enabled


def test_the_admin_lists_assistants_without_changing_them(admin_client, alice):
    assistant = make(alice, name="Pirate")
    assert "Pirate" in admin_client.get("/admin/chat/assistant/").content.decode()
    assert admin_client.get(f"/admin/chat/assistant/{assistant.pk}/change/").status_code == 200
    admin_client.post(f"/admin/chat/assistant/{assistant.pk}/change/", {"name": "Changed"})
    assistant.refresh_from_db()
    assert (assistant.name, assistant.version) == ("Pirate", 1)
