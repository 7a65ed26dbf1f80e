"""The WebSocket of docs/protocol.md: decode a frame, dispatch it, send the answer.

What a frame is lives in frames.py, the replies in runtime.py and reply.py, the attach handshake in
following.py; this module keeps only the socket's own state (its user, session and frame budget).
"""

from __future__ import annotations

import logging
import math

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY

from chat.realtime import frames, rate_limit, runtime, sessions, store
from chat.realtime.following import Follower
from chat.realtime.frames import Code, Refused

log = logging.getLogger(__name__)

# The close code of a socket that kept sending after its rate_limited warning (docs/protocol.md).
FRAME_FLOOD = 4429


def _frame_sender(send):
    """The ASGI send under Channels' session wrapper when it is there: the wrapper reads the session
    on every message, for an HTTP response start a socket never sends (3 of the 4 µs a frame took)."""
    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper) and callable(getattr(wrapper, "real_send", None)):
        return wrapper.real_send
    return send


class ChatConsumer(AsyncWebsocketConsumer):
    """One browser socket of one signed-in user."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()
            return
        self.user = user
        self.raw_send = _frame_sender(self.base_send)
        # Derived from the password hash: a password change voids the session, and so this socket.
        self.auth_hash = self.scope["session"].get(HASH_SESSION_KEY)
        self.frames = rate_limit.frame_bucket()
        self.frames_warned = self.flooded = False
        self.runtime = await runtime.runtime()
        if not self.runtime.add_socket(user.pk, settings.TOKENOFF_MAX_SOCKETS_PER_USER):
            log.warning("user %s has too many open sockets; refusing another", user.pk)
            await self.close()
            return
        self.follower = Follower(self.runtime, self.channel_name, self.send_frame)
        # So that the user's sockets can be closed together, wherever they are (deactivation).
        await self.channel_layer.group_add(sessions.user_group(user.pk), self.channel_name)
        session_key = self.scope["session"].session_key
        self.session_group = sessions.session_group(session_key) if session_key else None
        if self.session_group:  # so that logging out of this browser closes its sockets
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        self.counted = True
        await self.accept()
        # While the member reads and types: their first send then waits for no read of these.
        self.runtime.read_ahead(user)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            self.counted = False
            self.runtime.remove_socket(self.user.pk)
            await self.channel_layer.group_discard(sessions.user_group(self.user.pk), self.channel_name)
            if self.session_group:
                await self.channel_layer.group_discard(self.session_group, self.channel_name)
            await self.follower.close()

    async def send_frame(self, text: str) -> None:
        # Straight to the server's send: not through self.send's two layers and the session wrapper.
        await self.raw_send({"type": "websocket.send", "text": text})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not await self._frame_allowed(text_data):
            return
        if not await store.session_holds(self.user.pk, self.auth_hash):
            # Deactivated, or the password changed, since the socket opened (and the event missed).
            await self.close(code=sessions.SIGNED_OUT)
            return
        frame: frames.ClientFrame | None = None
        try:
            frame = frames.decode(text_data, settings.TOKENOFF_MAX_CONTENT)
            await self._dispatch(frame)
        except Refused as refused:
            await self.send_frame(frames.encode(frames.error_answering(refused, frame)))
        except Exception:
            # A fault of ours (the database away, say) answers this frame; the socket lives on.
            log.exception("a %s frame failed", frames.kind_of(frame) if frame else "malformed")
            failed = Refused(Code.INTERNAL_ERROR, "Something went wrong on the server. Try again.")
            await self.send_frame(frames.encode(frames.error_answering(failed, frame)))

    async def _dispatch(self, frame: frames.ClientFrame) -> None:
        match frame:
            case frames.Send() | frames.Regenerate():
                await self._check_rate()
                reply = await self.runtime.start_reply(self.user, frame, self.follower)
                await self.follower.started(reply.conversation_id)
            case frames.Stop(conversation=conversation):
                await self._check_owner(conversation)
                await self.runtime.stop(conversation)
            case frames.Attach(conversation=conversation):
                await self._check_owner(conversation, write=False)  # a project's readers may follow
                await self.follower.attach(conversation)

    async def _frame_allowed(self, text_data: str | None) -> bool:
        """Take a token of the socket's frame bucket: a flood is warned once, then closed."""
        if self.flooded:
            return False  # closing already: what is still on its way is dropped
        wait = self.frames.take()
        if not wait:
            self.frames_warned = False
            return True
        if self.frames_warned:
            self.flooded = True
            await self.close(code=FRAME_FLOOD)
            return False
        self.frames_warned = True
        retry = max(1, math.ceil(wait))
        words = f"Too many frames at once. Try again in {retry} s."
        warning = Refused(Code.RATE_LIMITED, words, retry_after=retry)
        # With the id of a send, so that the page gives its composer back.
        await self.send_frame(frames.encode(frames.error_answering(warning, frames.peek(text_data))))
        return False

    async def _check_rate(self) -> None:
        wait = await database_sync_to_async(rate_limit.seconds_until_send_allowed)(self.user.pk)
        if wait:
            message = f"Too many messages in a minute. Try again in {wait} s."
            raise Refused(Code.RATE_LIMITED, message, retry_after=wait)

    async def _check_owner(self, conversation: int, write: bool = True) -> None:
        if not await store.owns(self.user, conversation, write):
            raise Refused(Code.NOT_FOUND, "No such conversation.")

    # Channel-layer events ----------------------------------------------------------------------

    async def user_close(self, event: dict) -> None:
        """The user may no longer chat here (sessions.close_user_sockets)."""
        await self.close(code=event.get("code", sessions.SIGNED_OUT))

    async def session_check(self, event: dict) -> None:
        """The user's password changed (sessions.recheck_user_sessions): close if this session is void."""
        if not await store.session_holds(self.user.pk, self.auth_hash):
            await self.close(code=sessions.SIGNED_OUT)

    async def chat_frame(self, event: dict) -> None:
        await self.follower.group_frame(event)

    async def chat_snapshot(self, event: dict) -> None:
        await self.follower.snapshot_arrived(event)
