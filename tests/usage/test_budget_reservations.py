"""Budgets under concurrency: each request reserves what it may spend before the upstream is asked."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone

from chat.demo.directives import title_for, tokenize
from chat.demo.usage import prompt_tokens
from chat.models import ChatModel, Conversation, Message, budgets
from chat.models.budgets import Budget, OverBudget, Reservation, Spend, month_start
from chat.realtime import runtime, store
from chat.realtime.reply import Reply
from chat.realtime.titles import TITLE_PROMPT
from chat.usage import accounting as usage
from tests.conftest import chat_requests, wait_until
from tests.ws import connected, frames_until, send_frame

async_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)
# Both passes: reservations are taken under row locks, which only PostgreSQL really takes (the twenty
# concurrent sends are the acceptance test of that).
pytestmark = pytest.mark.postgres
TITLE_MODEL = "gpt-4.1-nano"
NO_PRICES = (None, None)


def month() -> dt.date:
    return month_start(timezone.now())


def team_spent() -> int:
    spend = Spend.of(month())
    return spend.tokens if spend else 0


def title_requests(fake) -> list:
    return [r for r in fake.requests if r.body and r.body.get("model") == TITLE_MODEL]


@pytest.fixture
def titles_tried(monkeypatch) -> list[int]:
    """The conversations whose title step has ended, made or skipped: what a test waits for."""
    ended: list[int] = []
    real = Reply._name_conversation

    async def counted(self):
        try:
            await real(self)
        finally:
            ended.append(self.conversation_id)

    monkeypatch.setattr(Reply, "_name_conversation", counted)
    return ended


# Reserve, settle, release ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reservation_that_would_pass_the_limit_is_refused(alice):
    Budget.objects.create(is_team=True, monthly_tokens=1000)
    Spend.add(month(), 800, Decimal(0))
    # What fits is held, the output shrunk to the room left: 800 + 50 in + 150 out = 1000.
    hold = budgets.reserve(alice.pk, True, 50, 500, NO_PRICES)
    assert hold.output_tokens == 150 and Reservation.objects.get(pk=hold.pk).tokens == 200
    with pytest.raises(OverBudget) as refused:
        budgets.reserve(alice.pk, True, 1, 500, NO_PRICES, min_output=1)
    assert refused.value.whose == "the team's" and refused.value.resets.day == 1
    # Without the team key only the member's own budget counts, and they have none.
    assert budgets.reserve(alice.pk, False, 50, 500, NO_PRICES) is None


@pytest.mark.django_db
def test_the_users_budget_refuses_too_and_says_whose(alice):
    Budget.objects.create(user=alice, monthly_tokens=100)
    with pytest.raises(OverBudget) as refused:
        budgets.reserve(alice.pk, False, 40, 500, NO_PRICES)  # 60 left for output, fewer than 64
    assert refused.value.whose == "your" and not Reservation.objects.exists()


@pytest.mark.django_db
def test_a_cost_budget_holds_the_price_of_the_input_and_the_longest_output(alice):
    Budget.objects.create(is_team=True, monthly_cost=Decimal("1.00"))
    prices = (Decimal("2"), Decimal("8"))  # per million tokens
    # The input costs 0.20: 0.80 is left for at most 100,000 tokens of output.
    hold = budgets.reserve(alice.pk, True, 100_000, 200_000, prices)
    assert hold.output_tokens == 100_000
    assert Reservation.objects.get(pk=hold.pk).cost == Decimal("1.000000")
    with pytest.raises(OverBudget):
        budgets.reserve(alice.pk, True, 0, 100, prices)


@pytest.mark.django_db
def test_settling_counts_the_real_usage_and_frees_the_hold(alice):
    Budget.objects.create(is_team=True, monthly_tokens=1000)
    hold = budgets.reserve(alice.pk, True, 100, 900, NO_PRICES)
    assert hold.output_tokens == 900
    with pytest.raises(OverBudget):
        budgets.reserve(alice.pk, True, 10, 100, NO_PRICES)
    usage.record(alice.pk, True, usage.Usage(90, 60), None, timezone.now(), hold=hold.pk)
    assert team_spent() == 150 and not Reservation.objects.exists()
    assert budgets.reserve(alice.pk, True, 10, 2000, NO_PRICES).output_tokens == 1000 - 150 - 10


@pytest.mark.django_db
def test_a_reservation_stops_counting_when_its_reply_ends_or_it_expires(alice):
    Budget.objects.create(is_team=True, monthly_tokens=1000)
    conversation = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    reply = Message.objects.create(conversation=conversation, role="assistant", status="streaming")
    budgets.reserve(alice.pk, True, 0, 600, NO_PRICES, message_id=reply.pk)
    soon = timezone.now() + timezone.timedelta(minutes=2)
    title = budgets.reserve(alice.pk, True, 0, 300, NO_PRICES, expires=soon)
    assert (
        budgets.reserve(alice.pk, True, 0, 1000, NO_PRICES, min_output=1, expires=soon).output_tokens == 100
    )
    # The title call's process died: its reservation ends with the time the call had.
    Reservation.objects.filter(pk=title.pk).update(expires=timezone.now() - timezone.timedelta(seconds=1))
    Reservation.objects.filter(expires=soon).delete()
    assert budgets.reserve(alice.pk, True, 0, 1000, NO_PRICES, expires=soon).output_tokens == 400
    Reservation.objects.filter(expires=soon).delete()
    Message.objects.filter(pk=reply.pk).update(status="done")  # ended by a path that did not release
    assert budgets.reserve(alice.pk, True, 0, 1000, NO_PRICES, expires=soon).output_tokens == 1000
    Reservation.objects.filter(expires=soon).delete()
    assert budgets.sweep() == 2 and not Reservation.objects.exists()


@pytest.mark.django_db
def test_a_failed_request_without_usage_costs_nothing():
    assert usage.from_upstream(None, [{"content": "x" * 40}], "", failed=True).total_tokens == 0
    # Text came, then the failure: the upstream did the work, so it is estimated as before.
    assert usage.from_upstream(None, [{"content": "x" * 40}], "partial", failed=True).estimated


@async_db
async def test_a_reply_reserves_and_its_end_releases_with_the_real_usage(alice, team_key, fake):
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=10_000)
    await sync_to_async(ChatModel.objects.filter(name=TITLE_MODEL).update)(enabled=False)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=40] [fake:delay=0.02]"))
    started = await socket.receive_json_from()
    held = await sync_to_async(Reservation.objects.get)(message_id=started["message"])
    # The model sets no maximum: the output held is what is left of the budget after the input.
    assert held.team and held.tokens == 10_000
    history = [{"content": "[fake:chunks=40] [fake:delay=0.02]"}]
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    # The request carried the reservation's output as its limit, and the spending is the real one.
    assert chat_requests(fake)[0].body["max_tokens"] == held.tokens - usage.input_tokens(history)
    assert await sync_to_async(team_spent)() == done["usage"]["total_tokens"]
    assert not await sync_to_async(Reservation.objects.exists)()


@async_db
async def test_a_reply_that_fails_without_usage_costs_nothing_and_is_released(alice, team_key, fake):
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=10_000)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:status=500] tell me"))
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert done["finish_reason"] == "error" and reply.usage["total_tokens"] == 0
    assert await sync_to_async(team_spent)() == 0
    assert not await sync_to_async(Reservation.objects.exists)()


@async_db
async def test_a_begin_that_fails_after_reserving_keeps_no_reservation(alice, team_key, monkeypatch):
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=10_000)
    real = usage.reserve_reply

    def reserve_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(usage, "reserve_reply", reserve_then_fail)
    with pytest.raises(RuntimeError):
        await store.begin(alice, None, None, "hi", "worker:1:a")
    assert not await sync_to_async(Reservation.objects.exists)()
    assert not await sync_to_async(Message.objects.exists)()


@async_db
async def test_the_interrupted_reply_recovery_releases_its_reservation(alice, team_key):
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=1000)

    @sync_to_async
    def dead_reply() -> Message:
        conversation = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
        question = Message.objects.create(conversation=conversation, role="user", content="q" * 40)
        reply = Message.objects.create(
            conversation=conversation,
            parent=question,
            role="assistant",
            content="a" * 80,
            status="streaming",
            via_team_key=True,
            worker="dead:1:z",
        )
        budgets.reserve(alice.pk, True, 20, 980, NO_PRICES, message_id=reply.pk)
        return reply

    reply = await dead_reply()
    with pytest.raises(OverBudget):  # the dead process's reply holds the whole budget
        await sync_to_async(budgets.reserve)(alice.pk, True, 10, 100, NO_PRICES)
    await runtime.runtime()  # starting recovers the dead process's reply
    await sync_to_async(reply.refresh_from_db)()
    assert reply.finish_reason == "interrupted"
    assert not await sync_to_async(Reservation.objects.exists)()
    assert await sync_to_async(team_spent)() == (10 + 4) + 20  # its estimate, as before


# Titles ------------------------------------------------------------------------------------------


@async_db
async def test_a_title_request_is_not_made_with_a_model_the_member_may_not_use(
    alice, team_key, fake, titles_tried
):
    @sync_to_async
    def title_model_for_others_only():
        ChatModel.objects.get(name=TITLE_MODEL).groups.add(Group.objects.create(name="Others"))

    await title_model_for_others_only()
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=2] what about the weather"))
    done = (await frames_until(socket, "done"))[-1]
    assert await wait_until(lambda: titles_tried)
    await socket.disconnect()
    assert title_requests(fake) == []
    conversation = await sync_to_async(Conversation.objects.get)(pk=done["conversation"])
    assert conversation.title == Conversation.title_from("[fake:chunks=2] what about the weather")


@async_db
async def test_title_usage_counts_against_the_budget(alice, team_key, fake):
    await sync_to_async(ChatModel.objects.filter(name=TITLE_MODEL).update)(
        input_price=Decimal("1"), output_price=Decimal("4")
    )
    socket = await connected(alice)
    await socket.send_json_to(send_frame("name this chat please"))
    frames = await frames_until(socket, "conversation")
    await socket.disconnect()
    done = next(frame for frame in frames if frame["type"] == "done")
    (title,) = title_requests(fake)
    assert title.body["max_completion_tokens"] == usage.TITLE_TOKENS
    prompt = prompt_tokens(title.body["messages"])
    completion = len(tokenize(title_for("name this chat please")))
    spend = await sync_to_async(Spend.of)(month(), alice)
    assert spend.tokens == done["usage"]["total_tokens"] + prompt + completion
    assert spend.cost == (Decimal(prompt) * 1 + Decimal(completion) * 4) / 1_000_000
    assert await sync_to_async(team_spent)() == spend.tokens
    assert not await sync_to_async(Reservation.objects.exists)()


@async_db
async def test_a_title_request_that_cannot_reserve_is_skipped(alice, team_key, fake, titles_tried):
    question = "[fake:chunks=2] hello"
    reply_input = usage.input_tokens([{"content": question}])
    title_input = usage.input_tokens([{"content": TITLE_PROMPT}, {"content": question}])
    limit = reply_input + budgets.MIN_REPLY_OUTPUT
    assert limit < title_input + usage.TITLE_TOKENS  # the reply fits, its title does not
    await sync_to_async(Budget.objects.create)(user=alice, monthly_tokens=limit)
    socket = await connected(alice)
    await socket.send_json_to(send_frame(question))
    assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"
    assert await wait_until(lambda: titles_tried)
    await socket.disconnect()
    assert title_requests(fake) == []
    assert not await sync_to_async(Reservation.objects.exists)()


# Concurrency ---------------------------------------------------------------------------------------


async def outcome(socket) -> dict:
    """The send's last word: its done frame, or the error that refused it."""
    while True:
        frame = await socket.receive_json_from(timeout=20)
        if frame["type"] == "done" or (frame["type"] == "error" and frame["code"] == "quota_exceeded"):
            return frame


@async_db
async def test_twenty_concurrent_sends_never_end_above_a_1000_token_budget(
    alice, team_key, fake, settings, titles_tried
):
    settings.TOKENOFF_SENDS_PER_MINUTE = settings.TOKENOFF_MAX_SOCKETS_PER_USER = 100
    await sync_to_async(Budget.objects.create)(is_team=True, monthly_tokens=1000)
    # Replies of at most 100 tokens: several fit at once, the rest must be refused.
    await sync_to_async(ChatModel.objects.filter(name="gpt-4.1").update)(max_output_tokens=100)
    sockets = await asyncio.gather(*(connected(alice) for _ in range(20)))
    await asyncio.gather(
        *(
            socket.send_json_to(send_frame(f"hello number {number}", client_id=f"s{number}"))
            for number, socket in enumerate(sockets)
        )
    )
    outcomes = await asyncio.gather(*(outcome(socket) for socket in sockets))
    answered = [frame for frame in outcomes if frame["type"] == "done"]
    # Every answered one is a new conversation: wait for its title step, made or skipped.
    assert await wait_until(lambda: len(titles_tried) == len(answered), timeout=20)
    for socket in sockets:
        await socket.disconnect()
    spent = await sync_to_async(team_spent)()
    assert spent <= 1000, f"{len(answered)} replies took the budget to {spent}"
    assert len(answered) >= 2 and all(frame["finish_reason"] != "error" for frame in answered)
    refused = [frame for frame in outcomes if frame["type"] == "error"]
    assert len(refused) == 20 - len(answered) and all(frame["resets"] for frame in refused)
    assert not await sync_to_async(Reservation.objects.exists)()


@pytest.mark.postgres_only
@async_db  # a transaction of its own per thread; the seeded rows are put back after
def test_parallel_reservations_in_separate_transactions_never_pass_the_limit(alice):
    """Twenty threads, each its own connection and transaction, reserve at the same instant."""
    Budget.objects.create(is_team=True, monthly_tokens=1000)
    start = threading.Barrier(20)

    def one(_: int) -> bool:
        try:
            start.wait()
            try:
                budgets.reserve(alice.pk, True, 0, 100, NO_PRICES, min_output=100)
            except OverBudget:
                return False
            return True
        finally:
            connections.close_all()

    with ThreadPoolExecutor(20) as pool:
        admitted = sum(pool.map(one, range(20)))
    assert admitted == 10 and Reservation.objects.count() == 10
    assert sum(Reservation.objects.values_list("tokens", flat=True)) == 1000
