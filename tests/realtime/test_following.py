"""The conversations one socket follows (realtime/following.py): bounded, however long the socket lives."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chat.models import Conversation
from chat.realtime import following, runtime
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def conversations_of(user, count: int) -> list[int]:
    return [Conversation.objects.create(owner=user, title="t", model="gpt-4.1").pk for _ in range(count)]


async def test_a_socket_follows_only_the_conversations_it_touched_last(alice, team_key, fake, monkeypatch):
    # The soak's socket: a send in one conversation after another, for hours. Each used to stay followed
    # (an entry in the runtime, a group membership) until the socket closed: 0.4 KB more a send.
    monkeypatch.setattr(following, "FOLLOWED_AT_MOST", 3, raising=False)
    ids = await conversations_of(alice, 5)
    socket, other = await connected(alice), await connected(alice)
    for index, conversation in enumerate(ids):
        await socket.send_json_to(
            send_frame("[fake:chunks=1]", conversation=conversation, client_id=f"c{index}")
        )
        assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"
    instance = await runtime.runtime()
    assert set(instance.followers) == set(ids[-3:])

    # Following one again makes it the newest: the oldest of the others is left instead.
    await socket.send_json_to({"type": "attach", "conversation": ids[0]})
    assert (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
    assert set(instance.followers) == {ids[0], *ids[-2:]}

    # Another tab's send still reaches the socket in a conversation it follows, and no longer in one it left.
    await other.send_json_to(send_frame("[fake:chunks=1]", conversation=ids[2], client_id="o1"))
    await frames_until(other, "done")
    assert await socket.receive_nothing(timeout=0.3)
    await other.send_json_to(send_frame("[fake:chunks=1]", conversation=ids[-1], client_id="o2"))
    seen = await frames_until(socket, "done")
    assert seen[0]["type"] == "started" and seen[0]["conversation"] == ids[-1]
    await socket.disconnect()
    await other.disconnect()
    assert not instance.followers


async def test_a_conversation_whose_reply_runs_here_stays_followed_to_its_done(
    alice, team_key, fake, monkeypatch
):
    # Protocol: exactly one `done` follows every `started`, however many conversations the page opens.
    monkeypatch.setattr(following, "FOLLOWED_AT_MOST", 2, raising=False)
    ids = await conversations_of(alice, 4)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=40] [fake:delay=0.05] long", conversation=ids[0]))
    started = await frames_until(socket, "started")
    for conversation in ids[1:]:
        await socket.send_json_to({"type": "attach", "conversation": conversation})
    seen = []
    while not any(f["type"] == "done" and f["conversation"] == ids[0] for f in seen):
        seen.append(await socket.receive_json_from(timeout=10))
    assert started[-1]["conversation"] == ids[0]
    assert [f["type"] for f in seen if f["type"] == "snapshot"] == ["snapshot"] * 3
    await socket.disconnect()
