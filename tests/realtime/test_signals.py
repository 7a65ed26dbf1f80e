"""A user deactivated (or deleted) is cut off at once: every socket closes, every reply stops."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from tests.conftest import chat_requests, wait_until
from tests.ws import close_code, connected, frames_until, send_frame

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.redis]

SLOW = "[fake:chunks=400] [fake:delay=0.05]"


async def reply_of(conversation_id: int) -> Message:
    return await sync_to_async(Message.objects.filter(conversation_id=conversation_id).last)()


async def ended(conversation_id: int, timeout: float = 3.0) -> Message:
    for _ in range(int(timeout / 0.02)):
        reply = await reply_of(conversation_id)
        if reply.status == "done":
            return reply
        await asyncio.sleep(0.02)
    raise AssertionError("the reply is still streaming")


async def deactivate(user) -> None:
    user.is_active = False
    await sync_to_async(user.save)()


async def test_deactivating_a_user_stops_their_reply_and_closes_every_socket(alice, team_key, fake):
    socket = await connected(alice)
    other_tab = await connected(alice)
    await socket.send_json_to(send_frame(SLOW))
    started = await socket.receive_json_from()
    assert (await socket.receive_json_from())["type"] == "delta"

    await deactivate(alice)

    assert await close_code(socket) == 4401
    assert await close_code(other_tab) == 4401
    reply = await ended(started["conversation"])
    assert reply.finish_reason == "stopped" and reply.content.startswith("word1")
    request = chat_requests(fake)[0]
    assert await wait_until(lambda: request.client_closed, timeout=1.0), "the upstream request is still open"
    assert request.chunks_sent < 400


async def test_a_reply_with_no_socket_left_is_stopped_too(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame(SLOW))
    started = await socket.receive_json_from()
    await socket.disconnect()  # the browser went away: the reply runs on, owned by the server

    await deactivate(alice)

    assert (await ended(started["conversation"])).finish_reason == "stopped"


async def test_other_users_chats_go_on(alice, bob, team_key, fake):
    theirs = await connected(bob)
    await theirs.send_json_to(send_frame("[fake:chunks=20] [fake:delay=0.02]"))
    await theirs.receive_json_from()
    mine = await connected(alice)

    await deactivate(alice)

    assert await close_code(mine) == 4401
    frames = await frames_until(theirs, "done")
    assert frames[-1]["finish_reason"] == "stop"
    await theirs.disconnect()


async def test_saving_an_active_user_closes_nothing(alice, team_key, fake):
    socket = await connected(alice)
    alice.first_name = "Alice"
    await sync_to_async(alice.save)()
    await socket.send_json_to(send_frame("Still here"))
    assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"
    await socket.disconnect()


async def test_deleting_a_user_closes_their_sockets(alice, team_key, fake):
    socket = await connected(alice)
    await sync_to_async(alice.delete)()
    assert await close_code(socket) == 4401


async def test_logging_out_closes_that_sessions_sockets_only(alice, team_key, fake):
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from tokenoff_site.asgi import application

    browsers = []
    for _ in range(2):
        client = Client()
        await sync_to_async(client.force_login)(alice)
        cookie = client.cookies["sessionid"].value
        socket = WebsocketCommunicator(
            application,
            "/ws/chat/",
            headers=[(b"cookie", f"sessionid={cookie}".encode()), (b"origin", b"http://localhost")],
        )
        assert (await socket.connect())[0]
        browsers.append((client, socket))
    (leaving, its_socket), (_, other_socket) = browsers
    await sync_to_async(leaving.post)("/accounts/logout/")
    assert await close_code(its_socket) == 4401
    # The other browser's session is untouched: its socket still answers.
    await other_socket.send_json_to(send_frame("[fake:chunks=2]"))
    assert (await frames_until(other_socket, "done"))[-1]["finish_reason"] == "stop"
    await other_socket.disconnect()
