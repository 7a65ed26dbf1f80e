"""Usage and review say which assistant a conversation started from (by the name the chat copied)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from chat.models import Conversation, Message
from tests.assistants.conftest import make

pytestmark = pytest.mark.django_db


def started_from(owner, assistant, tokens: int) -> Conversation:
    conversation = Conversation.objects.create(
        owner=owner,
        title="From an assistant",
        model="gpt-4.1",
        assistant=assistant,
        assistant_name=assistant.name,
    )
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        model="gpt-4.1",
        content="x",
        prompt_tokens=tokens,
        completion_tokens=1,
        cost=Decimal("0.001"),
    )
    return conversation


def test_the_usage_pages_group_replies_by_assistant(client, alice, admin_user):
    started_from(alice, make(alice, name="Pirate"), 4321)
    client.force_login(alice)
    mine = client.get("/usage/").content.decode()
    assert "data-usage-assistants" in mine and "Pirate" in mine and "4,322" in mine
    client.force_login(admin_user)
    assert "Pirate" in client.get("/usage/team/").content.decode()


def test_the_usage_page_has_no_assistant_section_without_one(client, alice):
    client.force_login(alice)
    assert "data-usage-assistants" not in client.get("/usage/").content.decode()


def test_review_shows_the_assistant_in_the_list_and_the_transcript(client, alice, bob):
    conversation = started_from(alice, make(alice, name="Pirate"), 10)
    bob.user_permissions.add(Permission.objects.get(codename="review_conversation"))
    client.force_login(bob)
    listed = client.get("/review/").content.decode()
    assert 'data-badge="assistant"' in listed and "Assistant · Pirate" in listed
    transcript = client.get(f"/review/{conversation.pk}/").content.decode()
    assert "data-assistant" in transcript and "Assistant · Pirate" in transcript
