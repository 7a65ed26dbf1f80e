"""A user's sockets and replies as a whole: a deactivated user, a signed-out session or a changed
password cuts them off everywhere at once."""

from __future__ import annotations

import hashlib

from channels.layers import InMemoryChannelLayer, get_channel_layer

from chat.realtime import store
from chat.realtime.runtime import ask_worker, local_runtimes, stop_request

# The close code of a socket whose user may no longer chat (deactivated, deleted, signed out):
# the browser stops reconnecting and sends the person to the log-in page.
SIGNED_OUT = 4401


def user_group(user_id: int) -> str:
    """Every socket of the user joins this group, on whichever process it is."""
    return f"chat.user.{user_id}"


def session_group(session_key: str) -> str:
    """The sockets opened with one log-in session: closed when that session logs out."""
    return "chat.session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


async def close_session_sockets(session_key: str) -> None:
    await get_channel_layer().group_send(
        session_group(session_key), {"type": "user.close", "code": SIGNED_OUT}
    )


async def close_user_sockets(user_id: int, code: int = SIGNED_OUT) -> None:
    """Close every socket the user has open, on every process (a `user.close` event)."""
    await get_channel_layer().group_send(user_group(user_id), {"type": "user.close", "code": code})


async def stop_user_replies(user_id: int) -> None:
    """Stop every reply the user has in flight: on this process directly, on others through their channel."""
    layer = get_channel_layer()
    # Not runtime(): a process that has none (a command, a shell) must not start one and recover.
    local = {instance.worker: (loop, instance) for loop, instance in local_runtimes()}
    for conversation_id, worker in await store.streaming_replies_of(user_id):
        if worker in local:
            loop, instance = local[worker]
            # Thread-safe: the runtime may run on another thread's loop than the caller's.
            loop.call_soon_threadsafe(instance.stop_here, conversation_id)
        elif not isinstance(layer, InMemoryChannelLayer):
            await ask_worker(layer, worker, stop_request(conversation_id))


async def end_user(user_id: int) -> None:
    """A user who may no longer chat: their sockets close and their replies stop, everywhere."""
    await close_user_sockets(user_id)
    await stop_user_replies(user_id)


async def recheck_user_sessions(user_id: int) -> None:
    """The user's password changed: each of their sockets checks that its session still holds."""
    await get_channel_layer().group_send(user_group(user_id), {"type": "session.check"})
