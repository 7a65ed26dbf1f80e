"""Share-link fixtures: a conversation of alice's with a branch (an edited question) and signed-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Conversation, Message

BACKEND = "django.contrib.auth.backends.ModelBackend"


def make_conversation(owner, title: str = "Trip plan") -> Conversation:
    """Question, an answer in Markdown, then an edited question whose answer is the branch on show."""
    conversation = Conversation.objects.create(owner=owner, title=title, model="gpt-4o-mini")
    first = Message.objects.create(conversation=conversation, role="user", content="Old question")
    Message.objects.create(conversation=conversation, role="assistant", content="Old answer", parent=first)
    edited = Message.objects.create(conversation=conversation, role="user", content="Where to go in May?")
    leaf = Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="**Lisbon**, then <script>alert(1)</script> Porto.",
        parent=edited,
        model="gpt-4o-mini",
    )
    conversation.leaf = leaf
    conversation.save(update_fields=["leaf"])
    return conversation


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


@pytest.fixture
def conversation(alice) -> Conversation:
    return make_conversation(alice)


@pytest.fixture
def as_alice(alice) -> Client:
    return signed_in(alice)


@pytest.fixture
def as_bob(bob) -> Client:
    return signed_in(bob)
