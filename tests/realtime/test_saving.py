"""A reply's database writes: few per reply, none per chunk, checkpoints of every reply in one statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import ApiKey, Conversation, Message
from chat.models.budgets import Spend, month_start
from chat.realtime import checkpoints
from tests.ws import connected, frames_until, send_frame

# Raw SQL and the background database thread (chat/realtime/lanes.py): both databases.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def writes(monkeypatch) -> list[str]:
    """Every write statement any thread runs, as its first words."""
    seen: list[str] = []
    real = CursorWrapper._execute

    def counted(self, sql, params, *ignored):
        if sql.lstrip().upper().startswith(WRITES):
            seen.append(" ".join(sql.split()[:3]))
        return real(self, sql, params, *ignored)

    monkeypatch.setattr(CursorWrapper, "_execute", counted)
    return seen


async def test_a_reply_in_a_conversation_costs_five_writes(alice, team_key, fake, writes):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=5] first"))
    started = (await frames_until(socket, "started"))[-1]
    # A month's first reply creates its spending rows; a new conversation's title comes after its reply.
    await frames_until(socket, "conversation")
    assert await sync_to_async(lambda: ApiKey.objects.get(pk=team_key.pk).last_used)() is not None
    writes.clear()
    await socket.send_json_to(send_frame("[fake:chunks=30] again", conversation=started["conversation"]))
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    assert done["finish_reason"] == "stop"
    # The question, the reply, the conversation's branch; the reply's end, its spending: none per chunk,
    # and the key's last_used not again within a minute.
    assert sorted(writes) == sorted(
        [
            'INSERT INTO "chat_message"',
            'INSERT INTO "chat_message"',
            'UPDATE "chat_conversation" SET',
            'UPDATE "chat_message" SET',
            'UPDATE "chat_spend" SET',
        ]
    ), writes


def streaming_reply(conversation: Conversation, content: str = "") -> Message:
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=content,
        status=Message.Status.STREAMING,
        heartbeat=timezone.now() - dt.timedelta(seconds=30),
    )


def test_one_statement_saves_every_reply_due_and_renews_every_heartbeat(alice):
    # One streaming reply per conversation (a partial unique index says so).
    grown, quiet, ended, other = (
        streaming_reply(Conversation.objects.create(owner=alice, title=f"t{n}")) for n in range(4)
    )
    Message.objects.filter(pk=ended.pk).update(status=Message.Status.DONE, content="final")
    with CaptureQueriesContext(connection) as queries:
        checkpoints.save.func(
            [(grown.pk, "grown text", 7), (other.pk, "more ☃ text", 3), (ended.pk, "stale", 9)],
            [grown.pk, quiet.pk, other.pk, ended.pk],
        )
    assert len(queries.captured_queries) == 1
    by_id = {m.pk: m for m in Message.objects.filter(pk__in=[grown.pk, quiet.pk, ended.pk, other.pk])}
    assert (by_id[grown.pk].content, by_id[grown.pk].last_seq) == ("grown text", 7)
    assert (by_id[other.pk].content, by_id[other.pk].last_seq) == ("more ☃ text", 3)
    assert (by_id[quiet.pk].content, by_id[quiet.pk].last_seq) == ("", 0)
    assert by_id[ended.pk].content == "final" and by_id[ended.pk].status == Message.Status.DONE
    recent = timezone.now() - dt.timedelta(seconds=5)
    assert by_id[quiet.pk].heartbeat > recent and by_id[grown.pk].heartbeat > recent


def test_spending_with_the_team_key_is_one_statement_once_both_rows_exist(alice):
    month = month_start(timezone.now())
    Spend.add(month, 10, Decimal("0.5"), user_id=alice.pk)  # the member's row only: the team's is missing
    Spend.add_for(month, 5, Decimal("0.25"), alice.pk, team=True)
    assert (Spend.of(month, alice).tokens, Spend.of(month).tokens) == (15, 5)
    with CaptureQueriesContext(connection) as queries:
        Spend.add_for(month, 1, Decimal("0.01"), alice.pk, team=True)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 1
    assert (Spend.of(month, alice).tokens, Spend.of(month).tokens) == (16, 6)
    assert (Spend.of(month, alice).cost, Spend.of(month).cost) == (Decimal("0.76"), Decimal("0.26"))
