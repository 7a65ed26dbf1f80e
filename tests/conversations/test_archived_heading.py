"""The sidebar offers "Archived" only to a member with an archived conversation of their own."""

from __future__ import annotations

import re

import pytest

from chat.conversations import api
from chat.models import Conversation

pytestmark = pytest.mark.django_db


def archived_heading_shown(client) -> bool:
    html = client.get("/").content.decode()
    tag = re.search(r'<h2 [^>]*id="archived-heading"[^>]*>', html)
    assert tag, "the page has the heading, hidden or not"
    return " hidden" not in tag.group(0)


def test_archived_is_offered_only_with_an_archived_conversation(client, alice, bob):
    Conversation.objects.create(owner=alice, title="Kept", model="gpt-4.1")
    Conversation.objects.create(owner=bob, title="Bob's old", model="gpt-4.1", archived=True)
    client.force_login(alice)
    assert not api.has_archived(alice)
    assert not archived_heading_shown(client)  # someone else's archive is not hers

    Conversation.objects.create(owner=alice, title="Old", model="gpt-4.1", archived=True)
    assert api.has_archived(alice)
    assert archived_heading_shown(client)
