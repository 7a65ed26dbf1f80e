"""The WebSocket protocol of docs/protocol.md, and nothing else: parse, check, delegate to replies.py."""

from __future__ import annotations

import asyncio
import logging
import math

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY

from chat.realtime import rate_limit, replies
from chat.realtime.replies import ReplyRefused, encode

log = logging.getLogger(__name__)

MAX_CLIENT_ID = 64
MAX_ID = 2**63 - 1
# The close code of a socket that kept sending after its rate_limited warning (docs/protocol.md).
FRAME_FLOOD = 4429


class BadFrame(Exception):
    """A frame the protocol does not accept, with the error code to answer."""

    def __init__(self, code: str, message: str, frame: dict | None = None, **extra) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame = frame or {}
        self.extra = extra


def _conversation_field(frame: dict, *, nullable: bool) -> int | None:
    value = frame.get("conversation")
    if value is None and nullable and "conversation" in frame:
        return None
    # bool is an int in Python, not in the protocol.
    if isinstance(value, int) and value > MAX_ID:
        raise BadFrame("not_found", "No such conversation.", frame)  # past any id the database can hold
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadFrame(
            "bad_request",
            "conversation must be a conversation id" + (" or null." if nullable else "."),
            frame,
        )
    return value


def _system_prompt_field(frame: dict, conversation: int | None) -> str | None:
    """The optional system prompt of a new conversation (an extension of `send`)."""
    if "system_prompt" not in frame:
        return None
    value = frame["system_prompt"]
    if conversation is not None:
        raise BadFrame("bad_request", "system_prompt is for a new conversation only.", frame)
    if not isinstance(value, str) or "\x00" in value:
        raise BadFrame("bad_request", "system_prompt must be text without NUL characters.", frame)
    if len(value) > settings.TOKENOFF_MAX_CONTENT:
        raise BadFrame(
            "too_large",
            f"A system prompt can hold at most {settings.TOKENOFF_MAX_CONTENT:,} characters.",
            frame,
        )
    return value


def _message_field(frame: dict, name: str) -> int | None:
    """An optional message id (`edit` of a send, `message` of a regenerate)."""
    value = frame.get(name)
    if value is None:
        return None
    if isinstance(value, int) and value > MAX_ID:
        raise BadFrame("not_found", "No such message in this conversation.", frame)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadFrame("bad_request", f"{name} must be a message id.", frame)
    return value


def _client_fields(frame: dict, *, new_allowed: bool) -> tuple[str, int | None, str | None]:
    """The id, conversation and model a send or a regenerate starts a reply with."""
    client_id = frame.get("id")
    # NUL never reaches the database: PostgreSQL refuses it in text (SQLite would keep it).
    if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID or "\x00" in client_id:
        raise BadFrame("bad_request", f"id must be a string of 1 to {MAX_CLIENT_ID} characters.", frame)
    conversation = _conversation_field(frame, nullable=new_allowed)
    model = frame.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip() or "\x00" in model):
        raise BadFrame("bad_request", "model must be a model name.", frame)
    return client_id, conversation, model


def _send_fields(frame: dict) -> tuple[str, int | None, str | None, str]:
    client_id, conversation, model = _client_fields(frame, new_allowed=True)
    content = frame.get("content")
    if not isinstance(content, str) or not content.strip():
        raise BadFrame("bad_request", "content must be some text.", frame)
    if "\x00" in content:
        raise BadFrame("bad_request", "content cannot hold NUL characters.", frame)
    if len(content) > settings.TOKENOFF_MAX_CONTENT:
        raise BadFrame(
            "too_large", f"A message can hold at most {settings.TOKENOFF_MAX_CONTENT:,} characters.", frame
        )
    return client_id, conversation, model, content


class ChatConsumer(AsyncWebsocketConsumer):
    """One browser socket of one signed-in user."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()
            return
        self.user = user
        # Derived from the password hash: a password change voids the session, and so this socket.
        self.auth_hash = self.scope["session"].get(HASH_SESSION_KEY)
        self.frames = rate_limit.frame_bucket()
        self.frames_warned = self.flooded = False
        self.runtime = await replies.runtime()
        if not self.runtime.add_socket(user.pk, settings.TOKENOFF_MAX_SOCKETS_PER_USER):
            log.warning("user %s has too many open sockets; refusing another", user.pk)
            await self.close()
            return
        self.following: set[int] = set()
        self.awaiting_snapshot: dict[int, list[dict]] = {}
        # Per conversation, the (message, seq) of the last snapshot from another process.
        self.snapshot_floor: dict[int, tuple[int, int]] = {}
        self.attach_timers: dict[int, asyncio.TimerHandle] = {}
        self.tasks: set[asyncio.Task] = set()
        # So that the user's sockets can be closed together, wherever they are (deactivation).
        await self.channel_layer.group_add(replies.user_group(user.pk), self.channel_name)
        session_key = self.scope["session"].session_key
        self.session_group = replies.session_group(session_key) if session_key else None
        if self.session_group:  # so that logging out of this browser closes its sockets
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        self.counted = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            self.counted = False
            for conversation in list(self.attach_timers):
                self._cancel_timer(conversation)
            for task in self.tasks:
                task.cancel()
            self.runtime.remove_socket(self.user.pk)
            await self.channel_layer.group_discard(replies.user_group(self.user.pk), self.channel_name)
            if self.session_group:
                await self.channel_layer.group_discard(self.session_group, self.channel_name)
            await self.runtime.unwatch_all(self, self.following)
            self.following.clear()

    async def send_frame(self, text: str) -> None:
        await self.send(text_data=text)

    async def send_json(self, frame: dict) -> None:
        await self.send_frame(encode(frame))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame: dict = {}
        if not await self._frame_allowed(text_data):
            return
        if not await replies.session_holds(self.user.pk, self.auth_hash):
            # Deactivated, or the password changed, since the socket opened (and the event missed).
            await self.close(code=replies.SIGNED_OUT)
            return
        try:
            frame = self._parse(text_data)
            handler = {
                "send": self.on_send,
                "regenerate": self.on_regenerate,
                "stop": self.on_stop,
                "attach": self.on_attach,
            }.get(frame["type"])
            if handler is None:
                raise BadFrame("bad_request", f"Unknown frame type {frame['type'][:40]!r}.", frame)
            await handler(frame)
        except BadFrame as bad:
            await self.send_error(bad.code, bad.message, bad.frame or frame, **bad.extra)
        except ReplyRefused as refused:
            await self.send_error(refused.code, refused.message, frame, **refused.extra)
        except Exception:
            # A fault of ours (the database away, say) answers this frame; the socket lives on.
            log.exception("a %s frame failed", frame.get("type", "malformed"))
            await self.send_error("internal_error", "Something went wrong on the server. Try again.", frame)

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
        try:  # for the id of a send, so that the page gives its composer back
            frame = self._parse(text_data)
        except BadFrame:
            frame = {}
        retry = max(1, math.ceil(wait))
        message = f"Too many frames at once. Try again in {retry} s."
        await self.send_error("rate_limited", message, frame, retry_after=retry)
        return False

    def _parse(self, text_data: str | None) -> dict:
        if text_data is None:
            raise BadFrame("bad_request", "Frames are JSON text.")
        # Checked before parsing: the worst case of JSON escaping is six characters for one.
        if len(text_data) > settings.TOKENOFF_MAX_CONTENT * 6 + 4096:
            raise BadFrame(
                "too_large", f"A message can hold at most {settings.TOKENOFF_MAX_CONTENT:,} characters."
            )
        try:
            frame = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            raise BadFrame("bad_request", "The frame is not JSON.") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise BadFrame("bad_request", "A frame is a JSON object with a type.")
        return frame

    async def send_error(self, code: str, message: str, frame: dict, **extra) -> None:
        error: dict = {"type": "error", "code": code, "message": message, **extra}
        if (
            frame.get("type") in ("send", "regenerate")
            and isinstance(frame.get("id"), str)
            and len(frame["id"]) <= MAX_CLIENT_ID
        ):
            error["id"] = frame["id"]
        conversation = frame.get("conversation")
        if isinstance(conversation, int) and not isinstance(conversation, bool) and code != "bad_request":
            error["conversation"] = conversation
        await self.send_json(error)

    # Client frames -----------------------------------------------------------------------------

    async def on_send(self, frame: dict) -> None:
        client_id, conversation, model, content = _send_fields(frame)
        edit = _message_field(frame, "edit")
        if edit is not None and conversation is None:
            raise BadFrame("bad_request", "edit needs the conversation of the message edited.", frame)
        system_prompt = _system_prompt_field(frame, conversation)
        await self._check_rate(frame)
        fork = replies.Fork(edit=edit) if edit is not None else None
        reply = await self.runtime.start_reply(
            self.user, client_id, conversation, model, content, self, system_prompt, fork
        )
        self.following.add(reply.conversation_id)

    async def on_regenerate(self, frame: dict) -> None:
        """A new version of a reply, to the same question (an extension: docs/protocol.md)."""
        client_id, conversation, model = _client_fields(frame, new_allowed=False)
        replaced = _message_field(frame, "message")
        if replaced is None:
            raise BadFrame("bad_request", "message must be the id of the reply to write again.", frame)
        await self._check_rate(frame)
        fork = replies.Fork(regenerate=replaced)
        reply = await self.runtime.start_reply(
            self.user, client_id, conversation, model, "", self, None, fork
        )
        self.following.add(reply.conversation_id)

    async def _check_rate(self, frame: dict) -> None:
        wait = await database_sync_to_async(rate_limit.seconds_until_send_allowed)(self.user.pk)
        if wait:
            message = f"Too many messages in a minute. Try again in {wait} s."
            raise BadFrame("rate_limited", message, frame, retry_after=wait)

    async def on_stop(self, frame: dict) -> None:
        conversation = _conversation_field(frame, nullable=False)
        await self._check_owner(conversation, frame)
        await self.runtime.stop(conversation)

    async def on_attach(self, frame: dict) -> None:
        conversation = _conversation_field(frame, nullable=False)
        await self._check_owner(conversation, frame)
        self.following.add(conversation)
        # Until another process answers, its deltas wait here, so that none is lost or doubled.
        self.awaiting_snapshot.setdefault(conversation, [])
        await self._request_snapshot(conversation)

    async def _request_snapshot(self, conversation: int) -> None:
        snapshot = await self.runtime.attach(conversation, self)
        if snapshot is not None:
            self.awaiting_snapshot.pop(conversation, None)
            await self.send_json(snapshot)
            return
        self._cancel_timer(conversation)
        self.attach_timers[conversation] = asyncio.get_running_loop().call_later(
            settings.TOKENOFF_ATTACH_TIMEOUT, self._start_owner_silent, conversation
        )

    def _start_owner_silent(self, conversation: int) -> None:
        task = asyncio.ensure_future(self._owner_silent(conversation))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _cancel_timer(self, conversation: int) -> None:
        timer = self.attach_timers.pop(conversation, None)
        if timer is not None:
            timer.cancel()

    async def _owner_silent(self, conversation: int) -> None:
        """No snapshot from the reply's process in time: end the reply if that process is gone."""
        self.attach_timers.pop(conversation, None)
        if conversation not in self.awaiting_snapshot:
            return
        if await self.runtime.orphaned(conversation):
            if self.awaiting_snapshot.pop(conversation, None) is not None:
                await self.send_json(replies.idle_snapshot(conversation))
        else:
            await self._request_snapshot(conversation)  # alive but slow: ask again

    async def _check_owner(self, conversation: int, frame: dict) -> None:
        if not await replies.owns(self.user, conversation):
            raise BadFrame("not_found", "No such conversation.", frame)

    # Channel-layer events from other processes -------------------------------------------------

    async def user_close(self, event: dict) -> None:
        """The user may no longer chat here (replies.close_user_sockets)."""
        await self.close(code=event.get("code", replies.SIGNED_OUT))

    async def session_check(self, event: dict) -> None:
        """The user's password changed (replies.recheck_user_sessions): close if this session is void."""
        if not await replies.session_holds(self.user.pk, self.auth_hash):
            await self.close(code=replies.SIGNED_OUT)

    async def chat_frame(self, event: dict) -> None:
        if event["origin"] == self.runtime.worker:
            return  # this process already sent it straight to the socket
        conversation = event["conversation"]
        waiting = self.awaiting_snapshot.get(conversation)
        if waiting is not None:
            waiting.append(event)
            return
        # The owner may take a snapshot between counting a delta and sending it to the group.
        if event.get("delta") and tuple(event["delta"]) <= self.snapshot_floor.get(conversation, (0, 0)):
            return
        await self.send_frame(event["text"])

    async def chat_snapshot(self, event: dict) -> None:
        snapshot = event["snapshot"]
        waiting = self.awaiting_snapshot.pop(snapshot["conversation"], None)
        if waiting is None:
            return  # too late: the attach already timed out
        self._cancel_timer(snapshot["conversation"])
        await self.send_json(snapshot)
        floor = (snapshot["message"] or 0, snapshot["seq"])
        self.snapshot_floor[snapshot["conversation"]] = floor
        for event in waiting:
            delta = event.get("delta")
            # After an idle snapshot the reply had ended: its buffered deltas would only repeat it.
            if not delta or (snapshot["streaming"] and tuple(delta) > floor):
                await self.send_frame(event["text"])
