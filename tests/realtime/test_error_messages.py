"""A failed reply keeps why it failed (its code, our message); a call that got nothing back costs nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from chat.models import ChatModel, Message
from chat.models.budgets import Budget, Reservation, Spend, month_start
from chat.realtime import store
from chat.usage import accounting
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def thread_of(user, conversation_id: int) -> dict:
    client = Client()
    client.force_login(user)
    return json.loads(client.get(f"/c/{conversation_id}/thread.json").content)


@sync_to_async
def page_of(user, conversation_id: int) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/c/{conversation_id}/").content.decode()


async def failed_reply(user, content: str) -> tuple[dict, dict]:
    """Send `content`; the reply's error frame and its done."""
    socket = await connected(user)
    await socket.send_json_to(send_frame(content))
    seen = await frames_until(socket, "done")
    await socket.disconnect()
    (error,) = [f for f in seen if f["type"] == "error"]
    return error, seen[-1]


async def test_a_failed_reply_saves_its_error_code_and_message(alice, team_key, fake):
    error, done = await failed_reply(alice, "[fake:status=401] hello")
    assert (error["code"], done["finish_reason"]) == ("upstream_auth", "error")
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert (reply.error_code, reply.error_message) == ("upstream_auth", error["message"])
    assert "HTTP 401" in reply.error_message  # ours, not the upstream's body

    # A reload shows the same: the thread JSON and the page's own state carry the code and the message.
    (row,) = [m for m in (await thread_of(alice, done["conversation"]))["messages"] if m["id"] == reply.pk]
    assert (row["finish_reason"], row["error_code"], row["error_message"]) == (
        "error",
        "upstream_auth",
        error["message"],
    )
    html = await page_of(alice, done["conversation"])
    assert 'data-error-code="upstream_auth"' in html and '"error_code": "upstream_auth"' in html


async def test_a_reply_that_ends_well_has_no_error(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=2] hello"))
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    rows = (await thread_of(alice, done["conversation"]))["messages"]
    assert [(m["error_code"], m["error_message"]) for m in rows] == [("", ""), ("", "")]


async def test_a_reply_whose_final_save_fails_still_keeps_its_error_message(
    alice, team_key, fake, monkeypatch
):
    async def refused(*args, **kwargs):
        raise RuntimeError("the database refused the row")

    monkeypatch.setattr(store, "save_final", refused)
    error, done = await failed_reply(alice, "[fake:status=503] hello")
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert (reply.finish_reason, reply.error_code) == ("error", "upstream_unavailable")
    assert reply.error_message == error["message"] and reply.error_message


async def test_a_failed_call_that_returned_no_usage_costs_nothing(alice, team_key, fake):
    await sync_to_async(ChatModel.objects.filter(name="gpt-4.1").update)(
        input_price=Decimal("2.00"), output_price=Decimal("8.00")
    )
    await sync_to_async(Budget.objects.create)(user=alice, monthly_tokens=100_000, monthly_cost=Decimal("5"))
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=100_000)

    # Fails before any chunk: the upstream counted nothing and sent nothing.
    error, done = await failed_reply(alice, "[fake:status=400] a question that would cost tokens")
    assert len(chat_requests(fake)) == 1 and error["code"] == "upstream_error"
    assert done["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert done["usage_estimated"] is False

    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert (reply.prompt_tokens, reply.completion_tokens, reply.cost) == (0, 0, Decimal(0))
    assert reply.usage_estimated is False
    month = month_start(timezone.now())
    for whose in (alice, None):  # the member's month and the team key's
        spend = await sync_to_async(Spend.of)(month, whose)
        assert spend is None or (spend.tokens, spend.cost) == (0, Decimal(0))
    # What the send held of the budgets is given back, and nothing of them is used.
    assert not await sync_to_async(Reservation.objects.filter(message_id=reply.pk).exists)()
    assert not await sync_to_async(Reservation.live().exists)()
    standing = await sync_to_async(accounting.standing)(alice, True)
    assert standing.share == 0.0 and standing.notice is None
