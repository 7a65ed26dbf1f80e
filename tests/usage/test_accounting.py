"""Usage, cost, budgets: counted per reply, estimated when the upstream is silent, enforced before a call."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone

from chat.models import ApiKey, ChatModel, Message
from chat.models.budgets import Budget, Spend, month_start
from chat.usage import accounting
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

async_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_estimate_counts_about_four_characters_a_token():
    counted = accounting.estimate([{"role": "user", "content": "x" * 40}], "y" * 10)
    assert (counted.prompt_tokens, counted.completion_tokens, counted.estimated) == (14, 3, True)
    assert counted.as_json()["estimated"] is True and counted.as_json()["total_tokens"] == 17


def test_the_upstreams_count_wins_with_reasoning_and_cached_tokens():
    reported = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "completion_tokens_details": {"reasoning_tokens": 30},
        "prompt_tokens_details": {"cached_tokens": 64},
    }
    counted = accounting.from_upstream(reported, [], "")
    assert (counted.total_tokens, counted.reasoning_tokens, counted.cached_tokens, counted.estimated) == (
        150,
        30,
        64,
        False,
    )
    assert accounting.from_upstream(None, [{"content": "abcd"}], "abcdefgh").estimated


def test_cost_follows_the_prices_per_million_tokens():
    counted = accounting.Usage(prompt_tokens=1_000_000, completion_tokens=500_000)
    assert accounting.cost_of(counted, Decimal("2.00"), Decimal("8.00")) == Decimal("6.000000")
    assert accounting.cost_of(counted, None, None) is None


@async_db
async def test_a_reply_stores_its_usage_and_cost_and_counts_it(alice, team_key, fake):
    # No title request: its usage counts too (test_budget_reservations), and this is the reply's alone.
    await sync_to_async(ChatModel.objects.filter(name="gpt-4.1-nano").update)(enabled=False)
    await sync_to_async(ChatModel.objects.filter(name="gpt-4.1").update)(
        input_price=Decimal("2"), output_price=Decimal("8")
    )
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=10]"))
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert not reply.usage_estimated and reply.via_team_key
    expected = (Decimal(reply.usage["prompt_tokens"]) * 2 + Decimal(10) * 8) / 1_000_000
    assert reply.cost == expected.quantize(Decimal("0.000001"))
    month = month_start(timezone.now())
    mine = await sync_to_async(Spend.of)(month, alice)
    team = await sync_to_async(Spend.of)(month)
    assert mine.tokens == team.tokens == reply.usage["total_tokens"] == done["usage"]["total_tokens"]


@async_db
@pytest.mark.parametrize("directive", ["[fake:no_usage] [fake:chunks=8]", "[fake:cut=4]"])
async def test_without_the_upstreams_count_an_estimate_is_stored_and_marked(alice, team_key, fake, directive):
    socket = await connected(alice)
    await socket.send_json_to(send_frame(directive))
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert reply.usage_estimated and reply.usage["estimated"] and reply.usage["completion_tokens"] > 0
    assert done["usage"]["total_tokens"] == reply.usage["total_tokens"] and done["usage_estimated"] is True


@async_db
async def test_over_the_budget_a_send_gets_quota_exceeded_and_no_upstream_call(alice, team_key, fake):
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=100)
    await sync_to_async(Spend.add)(month_start(timezone.now()), 100, Decimal(0))
    socket = await connected(alice)
    await socket.send_json_to(send_frame("over budget"))
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("quota_exceeded", "c1")
    assert "resets on" in error["message"] and error["resets"].endswith("-01")
    assert chat_requests(fake) == [] and await sync_to_async(Message.objects.count)() == 0
    # A member with a key of their own is not held by the team key's budget.
    await sync_to_async(ApiKey.store)("sk-alice-own-0001", user=alice)
    await socket.send_json_to(send_frame("[fake:chunks=2] own key"))
    assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"
    await socket.disconnect()


@async_db
async def test_a_users_budget_in_cost_applies_whatever_key_pays(alice, fake):
    await sync_to_async(ApiKey.store)("sk-alice-own-0001", user=alice)
    await sync_to_async(Budget.objects.create)(user=alice, monthly_cost=Decimal("1.00"))
    await sync_to_async(Spend.add)(month_start(timezone.now()), 10, Decimal("1.00"), user_id=alice.pk)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("hi"))
    assert (await socket.receive_json_from())["code"] == "quota_exceeded"
    await socket.disconnect()


@async_db
async def test_at_eighty_percent_the_started_frame_carries_a_notice(alice, team_key, fake):
    await sync_to_async(Budget.objects.create)(user=alice, monthly_tokens=1000)
    await sync_to_async(Spend.add)(month_start(timezone.now()), 850, Decimal(0), user_id=alice.pk)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=2]"))
    started = await socket.receive_json_from()
    assert started["type"] == "started" and started["notice"].startswith("85 %")
    await frames_until(socket, "done")
    await socket.disconnect()


@pytest.mark.postgres  # both passes: the two sends queue on the budget's row lock on PostgreSQL
@async_db
async def test_two_parallel_sends_at_the_edge_never_pass_the_budget(alice, team_key, fake):
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=1000)
    await sync_to_async(Spend.add)(month_start(timezone.now()), 990, Decimal(0))
    sockets = [await connected(alice) for _ in range(2)]
    for number, socket in enumerate(sockets):
        await socket.send_json_to(send_frame("[fake:chunks=20] [fake:delay=0.01]", client_id=f"p{number}"))
    outcomes = await asyncio.gather(*(frames_until(socket, "error") for socket in sockets))
    # Ten tokens left hold neither question with room for a reply: both are refused, nothing is spent.
    assert [frames[-1]["code"] for frames in outcomes] == ["quota_exceeded", "quota_exceeded"]
    assert (await sync_to_async(Spend.of)(month_start(timezone.now()))).tokens == 990
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.django_db
def test_set_budget_sets_and_clears_limits(alice):
    out = io.StringIO()
    call_command("set_budget", "--team", "--tokens", "500000", "--cost", "25.50", stdout=out)
    team = Budget.objects.get(is_team=True)
    assert (team.monthly_tokens, team.monthly_cost) == (500000, Decimal("25.50"))
    call_command("set_budget", "--user", "alice", "--tokens", "1000", stdout=out)
    call_command("set_budget", "--user", "alice", "--tokens", "0", stdout=out)
    assert Budget.objects.get(user=alice).monthly_tokens is None
