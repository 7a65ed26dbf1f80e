"""The pages cost a fixed number of queries, however many conversations and messages there are."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from chat.conversations.api import PAGE_SIZE as SIDEBAR_SIZE
from chat.models import Conversation, Message

pytestmark = pytest.mark.django_db

# Session, user, the user's groups and preferences, the models they may use, the sidebar's pinned
# and recent conversations, the review notice, and the user's permissions for the top bar's links
# (two queries, cached for the request), the member's own key's last check (base.html's notice of a
# refused key), the member's recent models (the picker) and whether any conversation is archived (the
# sidebar's Archived heading), the member's projects (the sidebar's Projects, theirs and those shared with
# their groups) and the site's settings (whether the Share button is offered); a conversation adds itself,
# its messages, the user's feedback on them and its questions' attachments.
CHAT_PAGE_QUERIES = 15
CONVERSATION_PAGE_QUERIES = 19


def conversations_of(user, count: int, messages_each: int) -> list[Conversation]:
    """`count` conversations of `messages_each` messages, the last one the newest, in a few bulk inserts."""
    start = timezone.now() - datetime.timedelta(days=400)
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                owner=user,
                title=f"Talk {i}",
                model="gpt-4.1",
                created=start + datetime.timedelta(minutes=i),
                updated=start + datetime.timedelta(minutes=i),
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    # One bulk insert per position in the thread, so that each message follows the one before.
    previous: list[Message | None] = [None] * len(conversations)
    for j in range(messages_each):
        previous = Message.objects.bulk_create(
            [
                Message(
                    conversation=conversation,
                    parent=previous[i],
                    role="user" if j % 2 == 0 else "assistant",
                    content=f"message {j} of talk {conversation.title}",
                    model="gpt-4.1",
                )
                for i, conversation in enumerate(conversations)
            ],
            batch_size=5000,
        )
    return conversations


def sidebar_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li data-conversation="(\d+)"', html)]


@pytest.mark.parametrize("count, messages_each", [(1, 2), (SIDEBAR_SIZE + 5, 3)])
def test_few_conversations_take_the_same_queries(
    client, alice, django_assert_num_queries, count, messages_each
):
    conversations = conversations_of(alice, count, messages_each)
    client.force_login(alice)
    with django_assert_num_queries(CHAT_PAGE_QUERIES):
        assert client.get("/").status_code == 200
    with django_assert_num_queries(CONVERSATION_PAGE_QUERIES):
        assert client.get(f"/c/{conversations[0].pk}/").status_code == 200


def test_ten_thousand_conversations_of_twenty_messages_take_the_same_queries(
    client, alice, bob, django_assert_num_queries
):
    conversations = conversations_of(alice, 10_000, 20)
    conversations_of(bob, 60, 1)  # someone else's never show
    client.force_login(alice)

    with django_assert_num_queries(CHAT_PAGE_QUERIES):
        response = client.get("/")
    newest = [c.pk for c in reversed(conversations[-SIDEBAR_SIZE:])]
    assert sidebar_ids(response.content.decode()) == newest

    opened = conversations[1234]
    with django_assert_num_queries(CONVERSATION_PAGE_QUERIES):
        response = client.get(f"/c/{opened.pk}/")
    html = response.content.decode()
    assert html.count('data-role="user"') == 10 and html.count('data-role="assistant"') == 10
    assert f"message 19 of talk {opened.title}" in html
    assert sidebar_ids(html) == newest
