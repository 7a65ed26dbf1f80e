"""Replies (realtime/runtime.py, reply.py, store.py) under stress: races, faults, dead processes."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer
from django.utils import timezone

from chat.models import Conversation, Message
from chat.models.budgets import Spend, month_start
from chat.realtime import runtime, store
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def conversation_of(user) -> Conversation:
    return Conversation.objects.create(owner=user, title="t", model="gpt-4.1")


@pytest.mark.redis
async def test_an_attach_while_a_send_is_starting_leaves_exactly_one_done(alice, team_key, fake, monkeypatch):
    conversation = await conversation_of(alice)
    real_begin = store.begin
    committed, attached = asyncio.Event(), asyncio.Event()

    async def paused_begin(*args, **kwargs):
        begun = await real_begin(*args, **kwargs)  # the streaming row is committed…
        committed.set()
        await asyncio.wait_for(attached.wait(), 5)  # …and the reply is not registered until the attach is in
        return begun

    monkeypatch.setattr(store, "begin", paused_begin)
    one, two = await connected(alice), await connected(alice)
    await one.send_json_to(send_frame("[fake:chunks=20] [fake:delay=0.01]", conversation=conversation.pk))
    await asyncio.wait_for(committed.wait(), 5)
    await two.send_json_to({"type": "attach", "conversation": conversation.pk})
    snapshot = await two.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot"
    attached.set()
    seen_one = await frames_until(one, "done")
    seen_two = await frames_until(two, "done")
    assert [f["finish_reason"] for f in seen_one if f["type"] == "done"] == ["stop"]
    assert [f["finish_reason"] for f in seen_two if f["type"] == "done"] == ["stop"]
    # Exactly one done: nothing more comes to either socket once the reply has ended.
    assert await one.receive_nothing(timeout=0.2) and await two.receive_nothing(timeout=0.2)
    reply = await sync_to_async(Message.objects.get)(pk=seen_one[0]["message"])
    assert (reply.status, reply.finish_reason) == ("done", "stop")


async def test_a_failure_while_sending_deltas_still_ends_the_reply(alice, team_key, fake, monkeypatch):
    real_publish = runtime.Runtime.publish
    failures = []

    async def flaky_publish(self, conversation_id, text, delta=None):
        if delta is not None and not failures:
            failures.append(delta)
            raise ConnectionError("the channel layer went away")
        return await real_publish(self, conversation_id, text, delta)

    monkeypatch.setattr(runtime.Runtime, "publish", flaky_publish)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=10] [fake:delay=0.01]"))
    done = (await frames_until(socket, "done"))[-1]
    assert failures and done["finish_reason"] == "stop"
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert reply.status == "done"
    # The conversation is free for the next message.
    await socket.send_json_to(
        send_frame("[fake:chunks=2]", conversation=done["conversation"], client_id="c2")
    )
    assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"
    await socket.disconnect()


@pytest.mark.postgres
async def test_what_the_upstream_says_is_trimmed_to_what_the_database_keeps(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame(f"[fake:finish={'x' * 40}] [fake:chunks=3]"))
    done = (await frames_until(socket, "done"))[-1]
    assert done["finish_reason"] == "x" * 32
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert reply.status == "done" and reply.content == "word1 word2 word3"
    await socket.disconnect()


async def test_a_fault_of_ours_answers_internal_error_and_the_socket_lives_on(
    alice, team_key, fake, monkeypatch
):
    conversation = await conversation_of(alice)
    real_owns = store.owns
    calls = []

    async def broken_once(user, conversation_id, write=True):
        calls.append(conversation_id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return await real_owns(user, conversation_id, write)

    monkeypatch.setattr(store, "owns", broken_once)
    socket = await connected(alice)
    await socket.send_json_to({"type": "attach", "conversation": conversation.pk})
    error = await socket.receive_json_from()
    assert error["code"] == "internal_error" and "database" not in error["message"]
    await socket.send_json_to({"type": "attach", "conversation": conversation.pk})
    assert (await socket.receive_json_from())["type"] == "snapshot"
    await socket.disconnect()


@pytest.mark.postgres
async def test_nul_characters_and_ids_past_the_database_are_refused_cleanly(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("a\x00b"))
    assert (await socket.receive_json_from())["code"] == "bad_request"
    await socket.send_to(text_data='{"type": "attach", "conversation": 9223372036854775808}')
    assert (await socket.receive_json_from())["code"] == "not_found"
    await socket.disconnect()


@pytest.mark.redis
async def test_an_owner_that_still_beats_is_asked_again_not_declared_dead(alice):
    instance = await runtime.runtime()  # started first: its start-up recovery would end the reply below
    conversation = await conversation_of(alice)
    live = await sync_to_async(Message.objects.create)(
        conversation=conversation,
        role="assistant",
        status="streaming",
        worker="specific.other!x",
        heartbeat=timezone.now(),
    )
    assert await instance.orphaned(conversation.pk) is False
    await sync_to_async(Message.objects.filter(pk=live.pk).update)(
        heartbeat=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert await instance.orphaned(conversation.pk) is True
    await sync_to_async(live.refresh_from_db)()
    assert (live.status, live.finish_reason) == ("done", "interrupted")


async def test_an_interrupted_reply_still_counts_against_the_budget(alice):
    conversation = await conversation_of(alice)
    question = await sync_to_async(Message.objects.create)(
        conversation=conversation, role="user", content="q" * 40
    )
    await sync_to_async(Message.objects.create)(
        conversation=conversation,
        parent=question,
        role="assistant",
        content="a" * 80,
        status="streaming",
        worker="dead:1:z",
    )
    await runtime.runtime()  # starting recovers the dead process's reply
    spend = await sync_to_async(Spend.of)(month_start(timezone.now()), alice)
    assert spend is not None and spend.tokens == (10 + 4) + 20


class DeafToCancellation(InMemoryChannelLayer):
    """A layer whose blocking receive swallows a cancellation, as redis-py's blocking pop can (#2028)."""

    def __init__(self) -> None:
        super().__init__()
        self.receiving = asyncio.Event()

    async def receive(self, channel):
        self.receiving.set()
        while True:
            try:
                return await super().receive(channel)
            except asyncio.CancelledError:
                asyncio.current_task().uncancel()


async def test_shutdown_ends_the_listener_even_when_a_cancellation_is_swallowed():
    instance = runtime.Runtime()
    instance.layer, instance.shared = DeafToCancellation(), True
    instance.worker = await instance.layer.new_channel()
    listener = instance._spawn(instance._listen())
    instance._listener = listener
    runtime._runtimes[asyncio.get_running_loop()] = instance
    await asyncio.wait_for(instance.layer.receiving.wait(), 5)  # the listener is blocked in its receive
    await asyncio.wait_for(runtime.shutdown(), 2)
    assert listener.done()


@pytest.mark.redis
async def test_a_reply_whose_socket_could_not_follow_it_still_runs_to_its_end(
    alice, team_key, fake, monkeypatch
):
    real_follow = runtime.Runtime.follow
    failures = []

    async def broken_follow(self, conversation_id, follower):
        if not failures:
            failures.append(conversation_id)
            raise RuntimeError("the channel layer went away")
        return await real_follow(self, conversation_id, follower)

    monkeypatch.setattr(runtime.Runtime, "follow", broken_follow)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=3]"))
    assert (await socket.receive_json_from(timeout=5))["code"] == "internal_error"
    conversation = await sync_to_async(Conversation.objects.get)(owner=alice)
    await socket.send_json_to({"type": "attach", "conversation": conversation.pk})
    frames = await frames_until(socket, "snapshot")
    if frames[-1]["streaming"]:
        frames = await frames_until(socket, "done")
    reply = await sync_to_async(Message.objects.get)(conversation=conversation, role="assistant")
    # Saved and ended, not left streaming (and busy) until the process restarts.
    assert await wait_until_done(reply)
    await socket.disconnect()


async def wait_until_done(reply: Message) -> bool:
    for _ in range(250):
        await sync_to_async(reply.refresh_from_db)()
        if reply.status == "done":
            return reply.finish_reason == "stop" and reply.content == "word1 word2 word3"
        await asyncio.sleep(0.02)
    return False
