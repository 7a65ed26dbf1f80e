"""The life of one reply: a task owned by the server, not by a socket.

A reply is started by a socket, then streams on its own: pieces from the upstream are coalesced
into numbered deltas (one frame per window at most), saved at checkpoints and at the end, and sent
to every socket attached to the conversation. Sockets on this process get frames directly; with
a shared channel layer (Redis), other processes' sockets get them through the conversation's
group, and they reach the owning process's own channel to stop or attach.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Protocol

import orjson
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from chat.models import ApiKey, ChatModel, Conversation, Message, Preferences, budgets
from chat.upstream import client as upstream
from chat.usage import accounting as usage

log = logging.getLogger(__name__)

STOPPED, ERROR, INTERRUPTED = "stopped", "error", "interrupted"
TITLE_PROMPT = (
    "Write a title of at most six words for a chat that starts with the message below. "
    "Answer with the title only, no quotes, no punctuation at the end."
)


class Watcher(Protocol):
    """A socket that follows conversations: consumer.ChatConsumer."""

    channel_name: str

    async def send_frame(self, text: str) -> None: ...


class ReplyRefused(Exception):
    """A send that cannot start, with the protocol's error code."""

    def __init__(self, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def encode(frame: dict) -> str:
    return orjson.dumps(frame).decode()


def usage_frame(usage: dict | None) -> dict | None:
    if not usage:
        return None
    return {name: usage.get(name) for name in ("prompt_tokens", "completion_tokens", "total_tokens")}


# ---------------------------------------------------------------------------------------------
# Database steps, each one small, named and run in a thread.


@dataclass
class Begun:
    conversation: Conversation
    user_message: Message
    reply: Message
    chat_model: ChatModel
    key: ApiKey | None
    history: list[dict]
    new_conversation: bool
    notice: str | None = None


def _owned_conversation(user, conversation_id: int) -> Conversation:
    conversation = Conversation.objects.owned_by(user).filter(pk=conversation_id).first()
    if conversation is None:
        raise ReplyRefused("not_found", "No such conversation.")
    return conversation


@database_sync_to_async
def begin(
    user,
    conversation_id: int | None,
    model_name: str | None,
    content: str,
    worker: str,
    system_prompt: str | None = None,
    fork: Fork | None = None,
) -> Begun:
    """Check everything, then save the user's message and an empty streaming reply together.

    A new conversation takes the system prompt given, else the user's default one. A fork edits a
    question (the new one is its sibling) or regenerates a reply (no new question: a sibling reply).
    """
    conversation = _owned_conversation(user, conversation_id) if conversation_id is not None else None
    asked = model_name or (conversation.model if conversation else None)
    chat_model = ChatModel.for_send(user, asked)
    if chat_model is None:
        raise ReplyRefused("model_unavailable", f"The model {asked or 'chosen'} is not available to you.")
    key = ApiKey.objects.for_user(user)
    if key is None and not settings.TOKENOFF_DEMO:
        raise ReplyRefused("no_api_key", "No TokenOff API key is set for you or for the team. Ask an admin.")
    via_team_key = key is not None and key.is_team
    budget = usage.standing(user, via_team_key)
    if budget.over:
        raise _quota_exceeded(budget.over, budget.resets)
    if conversation is None and system_prompt is None:
        system_prompt = Preferences.of(user).system_prompt
    fork = fork or Fork()
    now = timezone.now()
    try:
        with transaction.atomic():
            new = conversation is None
            if new:
                conversation = Conversation.objects.create(
                    owner=user,
                    title=Conversation.title_from(content),
                    model=chat_model.name,
                    system_prompt=system_prompt or "",
                    created=now,
                    updated=now,
                )
            if fork.regenerate is not None:
                user_message = _question_of(conversation, fork.regenerate)
            else:
                user_message = Message.objects.create(
                    conversation=conversation,
                    parent_id=None if new else _parent_of_question(conversation, fork.edit),
                    role=Message.Role.USER,
                    content=content,
                    model=chat_model.name,
                    created=now,
                )
            # The partial unique index refuses a second streaming reply: busy, and nothing is saved.
            reply = Message.objects.create(
                conversation=conversation,
                parent=user_message,
                role=Message.Role.ASSISTANT,
                model=chat_model.name,
                status=Message.Status.STREAMING,
                via_team_key=via_team_key,
                worker=worker,
                heartbeat=now,
                created=now,
            )
            conversation.model, conversation.updated, conversation.leaf = chat_model.name, now, reply
            conversation.save(update_fields=["model", "updated", "leaf"])
            if key is not None:
                ApiKey.objects.filter(pk=key.pk).update(last_used=now)
            # Last, so the budgets stay locked for a moment only; refused, nothing above is saved, and
            # nothing after it can fail and leave the reservation behind.
            history = conversation.upstream_messages()
            hold = usage.reserve_reply(user.pk, via_team_key, chat_model, history, reply.pk)
    except IntegrityError:
        raise ReplyRefused("busy", "A reply is already being written in this conversation.") from None
    except budgets.OverBudget as over:
        raise _quota_exceeded(over.whose, over.resets) from None
    if hold is not None:
        chat_model.max_output_tokens = hold.output_tokens  # the request may not write past its reservation
    return Begun(conversation, user_message, reply, chat_model, key, history, new, budget.notice)


def _quota_exceeded(whose: str, resets) -> ReplyRefused:
    message = f"{whose.capitalize()} monthly budget is used up; it resets on {resets:%B} 1."
    return ReplyRefused("quota_exceeded", message, resets=resets.isoformat())


@dataclass(frozen=True)
class Fork:
    """Where a send branches off: `edit` a question of the conversation, or `regenerate` a reply."""

    edit: int | None = None
    regenerate: int | None = None


def _parent_of_question(conversation: Conversation, edit: int | None) -> int | None:
    """A new question follows the branch on show; an edited one takes the place of the question edited."""
    if edit is not None:
        edited = conversation.messages.filter(pk=edit, role=Message.Role.USER).values("parent_id").first()
        if edited is None:
            raise ReplyRefused("not_found", "No such message in this conversation.")
        return edited["parent_id"]
    if conversation.leaf_id is not None:
        return conversation.leaf_id
    return conversation.messages.order_by("-id").values_list("pk", flat=True).first()


def _question_of(conversation: Conversation, reply_id: int) -> Message:
    """The question a regenerated reply answers again."""
    replaced = (
        conversation.messages.filter(pk=reply_id, role=Message.Role.ASSISTANT)
        .select_related("parent")
        .first()
    )
    if replaced is None or replaced.parent is None or replaced.parent.role != Message.Role.USER:
        raise ReplyRefused("not_found", "No such reply in this conversation.")
    return replaced.parent


@database_sync_to_async
def save_checkpoint(message_id: int, content: str, seq: int) -> None:
    Message.objects.filter(pk=message_id, status=Message.Status.STREAMING).update(
        content=content, last_seq=seq, heartbeat=timezone.now()
    )


@database_sync_to_async
def save_final(begun: Begun, fields: dict) -> bool:
    """The reply's last save, and its spending counted; False when it had already been ended."""
    now = timezone.now()
    failed = fields.get("finish_reason") == ERROR
    counted = usage.from_upstream(fields.get("usage"), begun.history, fields["content"], failed)
    cost = usage.cost_of(counted, begun.chat_model.input_price, begun.chat_model.output_price)
    with transaction.atomic():
        updated = Message.objects.filter(pk=begun.reply.pk, status=Message.Status.STREAMING).update(
            status=Message.Status.DONE,
            worker="",
            heartbeat=None,
            usage_estimated=counted.estimated,
            prompt_tokens=counted.prompt_tokens,
            completion_tokens=counted.completion_tokens,
            cost=cost,
            **{**fields, "usage": counted.as_json()},
        )
        if not updated:
            return False
        Conversation.objects.filter(pk=begun.conversation.pk).update(updated=now)
        usage.record(
            begun.conversation.owner_id, begun.reply.via_team_key, counted, cost, now, reply_id=begun.reply.pk
        )
    fields["usage"] = counted.as_json()
    return True


@database_sync_to_async
def save_fallback(message_id: int, fields: dict) -> bool:
    """The least a failed reply needs: ended, with the text as far as the database takes it."""
    ended = {"status": Message.Status.DONE, "worker": "", "heartbeat": None, "finish_reason": ERROR}
    ended["error_code"] = fields.get("error_code", "upstream_error")
    streaming = Message.objects.filter(pk=message_id, status=Message.Status.STREAMING)
    try:
        return bool(streaming.update(**ended, content=fields["content"].replace("\x00", "")))
    except Exception:
        log.exception("reply %s: even the fallback save failed; ending it without its text", message_id)
        return bool(streaming.update(**ended))
    finally:
        # Tidying only: a reservation stops counting once its reply has ended, and recovery sweeps it.
        with contextlib.suppress(Exception):
            budgets.release(message_id=message_id)


@database_sync_to_async
def touch(message_ids: list[int]) -> None:
    Message.objects.filter(pk__in=message_ids, status=Message.Status.STREAMING).update(
        heartbeat=timezone.now()
    )


@database_sync_to_async
def streaming_message(conversation_id: int) -> Message | None:
    return Message.objects.filter(conversation_id=conversation_id, status=Message.Status.STREAMING).first()


def interrupt(queryset) -> list[Message]:
    """End replies whose process is gone: their text so far is kept."""
    ended = []
    for message in queryset.filter(status=Message.Status.STREAMING).select_related("conversation"):
        # The upstream's count died with the process: estimate it, so that budgets still see it.
        counted = usage.estimate(message.conversation.upstream_messages(), message.content)
        cost = usage.cost_of(counted, *usage.prices_of(message.model))
        with transaction.atomic():
            if not Message.objects.filter(pk=message.pk, status=Message.Status.STREAMING).update(
                status=Message.Status.DONE,
                finish_reason=INTERRUPTED,
                worker="",
                heartbeat=None,
                usage=counted.as_json(),
                usage_estimated=True,
                prompt_tokens=counted.prompt_tokens,
                completion_tokens=counted.completion_tokens,
                cost=cost,
            ):
                continue  # ended meanwhile by its own process
            owner, paid_by_team = message.conversation.owner_id, message.via_team_key
            usage.record(owner, paid_by_team, counted, cost, timezone.now(), reply_id=message.pk)
        message.status, message.finish_reason, message.usage = (
            Message.Status.DONE,
            INTERRUPTED,
            counted.as_json(),
        )
        ended.append(message)
    return ended


@database_sync_to_async
def interrupt_orphans(live_workers: set[str], shared_layer: bool) -> list[Message]:
    """Replies a dead process left streaming: any not ours (one process), or long unheard of (several)."""
    budgets.sweep()  # reservations of requests that ended some other way, or that outlived their call
    if shared_layer:
        stale = timezone.now() - timezone.timedelta(seconds=settings.TOKENOFF_STALE_SECONDS)
        return interrupt(Message.objects.filter(Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)))
    return interrupt(Message.objects.exclude(worker__in=live_workers))


@database_sync_to_async
def interrupt_message(message_id: int, worker: str) -> list[Message]:
    return interrupt(Message.objects.filter(pk=message_id, worker=worker))


@database_sync_to_async
def set_title(conversation_id: int, title: str) -> None:
    Conversation.objects.filter(pk=conversation_id).update(title=title)


def clean_title(text: str) -> str:
    title = " ".join(text.replace("#", " ").replace("*", " ").strip().strip("\"'").split())
    return title[:80].rstrip(" .")


# ---------------------------------------------------------------------------------------------
# The reply task.


class Reply:
    """One reply in flight on this process."""

    def __init__(self, runtime: Runtime, begun: Begun, client_id: str) -> None:
        self.runtime = runtime
        self.begun = begun
        self.client_id = client_id
        self.conversation_id = begun.conversation.pk
        self.message_id = begun.reply.pk
        self.owner_id = begun.conversation.owner_id
        self.sent: list[str] = []  # one string per delta frame already sent (seq = len)
        self.pending: list[str] = []  # pieces received since the last frame
        self.wake = asyncio.Event()
        self.finished = False
        self.stopping = False
        self.running = False
        self.task: asyncio.Task | None = None

    @property
    def seq(self) -> int:
        return len(self.sent)

    def snapshot(self) -> dict:
        """The reply as of the last delta sent: later deltas continue it exactly."""
        return {
            "type": "snapshot",
            "conversation": self.conversation_id,
            "message": self.message_id,
            "content": "".join(self.sent),
            "seq": self.seq,
            "streaming": True,
        }

    def stop(self) -> None:
        if self.stopping or self.finished:
            return
        self.stopping = True
        # A task cancelled before its first step never runs its body; run() checks the flag instead.
        if self.running and self.task is not None:
            self.task.cancel()

    async def run(self) -> None:
        self.running = True
        pump = asyncio.create_task(self._pump())
        fields: dict = {}
        error: upstream.UpstreamError | None = None
        try:
            if self.stopping:
                raise asyncio.CancelledError
            async with asyncio.timeout(settings.TOKENOFF_REPLY_TIMEOUT):
                async with upstream.open_stream(
                    self.begun.key, self.begun.chat_model, self.begun.history
                ) as stream:
                    try:
                        async for piece in stream:
                            self.pending.append(piece)
                            self.wake.set()
                    finally:
                        # Kept whatever happens next: a stopped or failed reply still says who served it.
                        fields = {"served_model": stream.served_model, "usage": stream.usage}
                    fields["finish_reason"] = stream.finish_reason or "stop"
        except asyncio.CancelledError:
            if not self.stopping:
                raise  # the process is going down: the reply will be found and marked interrupted
            asyncio.current_task().uncancel()
            fields["finish_reason"] = STOPPED
        except upstream.UpstreamError as exc:
            error = exc
        except TimeoutError:
            error = upstream.UpstreamError("upstream_unavailable", "The reply took too long and was ended.")
        except Exception:
            log.exception("reply %s failed", self.message_id)
            error = upstream.UpstreamError("upstream_error", "Something went wrong while writing the reply.")
        finally:
            self.finished = True
            self.wake.set()
            # A pump that failed (a dead channel layer) must not keep the reply from ending.
            (pump_failure,) = await asyncio.gather(pump, return_exceptions=True)
            if isinstance(pump_failure, Exception):
                log.error("reply %s: sending deltas failed: %r", self.message_id, pump_failure)
        if error is not None:
            fields.update(finish_reason=ERROR, error_code=error.code)
        await self._finish(fields, error)

    async def _pump(self) -> None:
        """Send what arrived as one delta, at most one a window: the first piece goes out at once."""
        window = settings.TOKENOFF_COALESCE_SECONDS
        checkpoint_every = settings.TOKENOFF_CHECKPOINT_SECONDS
        last_checkpoint = time.monotonic()
        next_frame = 0.0
        while True:
            await self.wake.wait()
            # Pieces further apart than the window go out as they come, without a timer; closer
            # ones wait out the rest of the window and go together.
            rest = next_frame - time.monotonic()
            if rest > 0:
                await asyncio.sleep(rest)
            self.wake.clear()
            if self.pending:
                content = "".join(self.pending)
                self.pending.clear()
                self.sent.append(content)
                frame = {
                    "type": "delta",
                    "conversation": self.conversation_id,
                    "message": self.message_id,
                    "seq": self.seq,
                    "content": content,
                }
                await self.runtime.publish(self.conversation_id, encode(frame), (self.message_id, self.seq))
                next_frame = time.monotonic() + window
                if not self.finished and time.monotonic() - last_checkpoint >= checkpoint_every:
                    last_checkpoint = time.monotonic()
                    try:
                        await save_checkpoint(self.message_id, "".join(self.sent), self.seq)
                    except Exception:  # a failed checkpoint must not end the reply; the final save retries
                        log.exception("checkpoint of reply %s failed", self.message_id)
            if self.finished and not self.pending:
                return

    async def _finish(self, fields: dict, error: upstream.UpstreamError | None) -> None:
        fields.update(content="".join(self.sent), last_seq=self.seq)
        try:
            saved = await save_final(self.begun, fields)
        except Exception:
            # Whatever the upstream sent that the database refused, the reply still ends, keeping its text.
            log.exception("final save of reply %s failed", self.message_id)
            error = error or upstream.UpstreamError("upstream_error", "The reply could not be saved in full.")
            fields.update(finish_reason=ERROR, error_code=error.code, usage=None)
            saved = await save_fallback(self.message_id, fields)
        finally:
            self.runtime.forget(self)
        if not saved:
            return  # someone else ended it (as interrupted) and sent its done already
        if error is not None:
            await self.runtime.publish(
                self.conversation_id,
                encode(
                    {
                        "type": "error",
                        "code": error.code,
                        "message": error.message,
                        "id": self.client_id,
                        "conversation": self.conversation_id,
                    }
                ),
            )
        done = {
            "type": "done",
            "conversation": self.conversation_id,
            "message": self.message_id,
            "finish_reason": fields["finish_reason"],
            "usage": usage_frame(fields.get("usage")),
            "usage_estimated": bool(fields["usage"].get("estimated")),
            "served_model": fields.get("served_model") or None,
        }
        await self.runtime.publish(self.conversation_id, encode(done))
        if self.begun.new_conversation and error is None and fields["finish_reason"] != STOPPED:
            await self._name_conversation()

    async def _name_conversation(self) -> None:
        """A short title from a small model; the first words of the question stay when it fails."""
        question = self.begun.user_message.content[:2000]
        messages = [{"role": "system", "content": TITLE_PROMPT}, {"role": "user", "content": question}]
        owner, paid_by_team = self.owner_id, self.begun.reply.via_team_key
        # Only with a model the member may use, and room in their budgets for it.
        request = await database_sync_to_async(usage.title_request)(owner, paid_by_team, messages)
        if request is None:
            return
        answer = None
        try:
            answer = await upstream.complete(self.begun.key, request.model, messages, usage.TITLE_TOKENS)
        except upstream.UpstreamError as exc:
            log.info("no title for conversation %s: %s", self.conversation_id, exc.code)
        finally:
            reported, text = (answer.usage, answer.text) if answer else (None, None)
            settle = database_sync_to_async(usage.settle_title)
            await settle(owner, paid_by_team, request, messages, reported, text)
        if answer is None:
            return
        title = clean_title(next((line for line in answer.text.splitlines() if line.strip()), ""))
        if title:
            await set_title(self.conversation_id, title)
            await self.runtime.publish(
                self.conversation_id,
                encode({"type": "conversation", "conversation": self.conversation_id, "title": title}),
            )


# ---------------------------------------------------------------------------------------------
# The process's side: replies in flight, local sockets, and the way to other processes.


class Runtime:
    """This process's replies and sockets (one per event loop)."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        # With the in-memory layer there is exactly one process: everything is local.
        self.shared = not isinstance(self.layer, InMemoryChannelLayer)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.replies: dict[int, Reply] = {}
        self.watchers: dict[int, set[Watcher]] = {}
        self._background: set[asyncio.Task] = set()
        self._heartbeat: asyncio.Task | None = None
        self._listener: asyncio.Task | None = None
        self.sockets_per_user: dict[int, int] = {}

    async def start(self) -> None:
        if self.shared:
            # The process's own channel: other processes send stop and attach requests here. The
            # default prefix matters: channels_redis reads all of a process's channels with one
            # blocking pop per prefix, so another prefix would wait behind the sockets' pop.
            self.worker = await self.layer.new_channel()
            self._listener = self._spawn(self._listen())
        await self.recover()

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._task_ended)
        return task

    def _task_ended(self, task: asyncio.Task) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def recover(self) -> None:
        for message in await interrupt_orphans(_live_workers(), self.shared):
            log.warning("reply %s was left streaming by a dead process: interrupted", message.pk)
            await self.publish(message.conversation_id, encode(done_frame(message)))

    # Sockets -----------------------------------------------------------------------------------

    def add_socket(self, user_id: int, limit: int) -> bool:
        """Count one more open socket of the user; False (and not counted) when over the limit."""
        count = self.sockets_per_user.get(user_id, 0)
        if count >= limit:
            return False
        self.sockets_per_user[user_id] = count + 1
        return True

    def remove_socket(self, user_id: int) -> None:
        count = self.sockets_per_user.get(user_id, 1) - 1
        if count > 0:
            self.sockets_per_user[user_id] = count
        else:
            self.sockets_per_user.pop(user_id, None)

    async def watch(self, conversation_id: int, watcher: Watcher) -> None:
        if self.shared:
            await self.layer.group_add(group_name(conversation_id), watcher.channel_name)
        # Last and without a pause after it: attach takes its snapshot right after, before any delta.
        self.watchers.setdefault(conversation_id, set()).add(watcher)

    async def unwatch_all(self, watcher: Watcher, conversation_ids) -> None:
        for conversation_id in conversation_ids:
            watchers = self.watchers.get(conversation_id)
            if watchers is not None:
                watchers.discard(watcher)
                if not watchers:
                    del self.watchers[conversation_id]
            if self.shared:
                await self.layer.group_discard(group_name(conversation_id), watcher.channel_name)

    async def publish(self, conversation_id: int, text: str, delta: tuple[int, int] | None = None) -> None:
        """Send one encoded frame to every socket following the conversation, wherever it is.

        `delta` is a delta frame's (message, seq): it lets other processes' sockets drop a delta that a
        snapshot already holds without parsing the frame.
        """
        for watcher in tuple(self.watchers.get(conversation_id, ())):
            try:
                await watcher.send_frame(text)
            except Exception:  # a socket that went away must not stop the reply
                log.debug("dropping a frame for a closed socket", exc_info=True)
        if self.shared:
            event = {
                "type": "chat.frame",
                "text": text,
                "origin": self.worker,
                "conversation": conversation_id,
                "delta": delta,
            }
            try:
                await self.layer.group_send(group_name(conversation_id), event)
            except Exception:  # Redis away for a moment: other processes miss a frame, the reply goes on
                log.warning("could not send a frame to other processes", exc_info=True)

    # Replies -----------------------------------------------------------------------------------

    async def start_reply(
        self,
        user,
        client_id: str,
        conversation_id: int | None,
        model: str | None,
        content: str,
        watcher: Watcher,
        system_prompt: str | None = None,
        fork: Fork | None = None,
    ) -> Reply:
        if conversation_id in self.replies:
            # Ownership first: busy would tell another user that the conversation exists.
            if not await owns(user, conversation_id):
                raise ReplyRefused("not_found", "No such conversation.")
            raise ReplyRefused("busy", "A reply is already being written in this conversation.")
        arguments = (user, conversation_id, model, content, self.worker, system_prompt, fork)
        try:
            begun = await begin(*arguments)
        except ReplyRefused as refused:
            if refused.code != "busy" or conversation_id is None:
                raise
            # The reply in the way may belong to a process that died: end it and try once more.
            await self.recover()
            begun = await begin(*arguments)
        reply = Reply(self, begun, client_id)
        self.replies[reply.conversation_id] = reply
        await self.watch(reply.conversation_id, watcher)
        started = {
            "type": "started",
            "id": client_id,
            "conversation": reply.conversation_id,
            "title": begun.conversation.title,
            "user_message": begun.user_message.pk,
            "message": reply.message_id,
            "model": begun.chat_model.name,
            "content": begun.user_message.content,
        }
        if fork is not None:
            # The branch on show changed: other tabs of the conversation load it again.
            started["fork"] = "regenerate" if fork.regenerate is not None else "edit"
        if begun.notice:
            started["notice"] = begun.notice
        await self.publish(reply.conversation_id, encode(started))
        reply.task = self._spawn(reply.run())
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = self._spawn(self._beat())
        return reply

    def forget(self, reply: Reply) -> None:
        if self.replies.get(reply.conversation_id) is reply:
            del self.replies[reply.conversation_id]

    def stop_here(self, conversation_id: int) -> bool:
        """Stop the conversation's reply if it runs on this runtime."""
        reply = self.replies.get(conversation_id)
        if reply is not None:
            reply.stop()
        return reply is not None

    async def stop(self, conversation_id: int) -> None:
        if not self.stop_here(conversation_id) and self.shared:
            message = await streaming_message(conversation_id)
            if message is not None:
                await ask_worker(self.layer, message.worker, stop_request(conversation_id))

    async def attach(self, conversation_id: int, watcher: Watcher) -> dict | None:
        """Follow the conversation; the snapshot now, or None when another process will send it."""
        await self.watch(conversation_id, watcher)
        reply = self.replies.get(conversation_id)
        if reply is not None:
            return reply.snapshot()
        message = await streaming_message(conversation_id)
        reply = self.replies.get(conversation_id)
        if reply is not None:  # it started while we looked: this socket already follows it
            return reply.snapshot()
        if message is None or message.worker == self.worker:
            # Nothing in flight, or a reply of ours that is starting right now: its `started` follows.
            return idle_snapshot(conversation_id)
        if self.shared:
            request = {
                "type": "reply.attach",
                "conversation": conversation_id,
                "reply_to": watcher.channel_name,
            }
            if await ask_worker(self.layer, message.worker, request):
                return None
        # Streaming in the database but running nowhere: its process died.
        for ended in await interrupt_message(message.pk, message.worker):
            await self.publish(conversation_id, encode(done_frame(ended)))
        return idle_snapshot(conversation_id)

    async def orphaned(self, conversation_id: int) -> bool:
        """An attach got no answer in time: end the reply if its process has stopped beating.

        False when the owner still renews its heartbeat: it is alive, only slow, and is asked again.
        """
        message = await streaming_message(conversation_id)
        if message is None:
            return True
        alive_since = timezone.now() - timezone.timedelta(seconds=2 * settings.TOKENOFF_HEARTBEAT_SECONDS)
        if message.heartbeat is not None and message.heartbeat > alive_since:
            return False
        for ended in await interrupt_message(message.pk, message.worker):
            await self.publish(conversation_id, encode(done_frame(ended)))
        return True

    async def _listen(self) -> None:
        """Requests from other processes about the replies running here."""
        while True:
            try:
                request = await self.layer.receive(self.worker)
                if request.get("type") == QUIT:
                    return
                reply = self.replies.get(request.get("conversation"))
                if request.get("type") == "reply.stop" and reply is not None:
                    reply.stop()
                elif request.get("type") == "reply.attach":
                    snapshot = reply.snapshot() if reply else idle_snapshot(request.get("conversation"))
                    await self.layer.send(
                        request["reply_to"], {"type": "chat.snapshot", "snapshot": snapshot}
                    )
            except asyncio.CancelledError:
                raise
            except Exception:  # one failed request must not deafen the process to all later ones
                log.warning("a request from another process failed", exc_info=True)
                await asyncio.sleep(0.5)

    async def stop_listening(self) -> None:
        """End `_listen` by asking it to, not by cancelling it.

        redis-py can swallow a cancellation that lands during a blocking pop (redis/redis-py#2028):
        channels_redis then pops again every few seconds, for ever. A message always gets through.
        """
        listener = self._listener
        if listener is None or listener.done():
            return
        with contextlib.suppress(Exception):
            await self.layer.send(self.worker, {"type": QUIT})
            await asyncio.wait_for(asyncio.shield(listener), LISTENER_QUIT_SECONDS)

    async def _beat(self) -> None:
        """While replies run here, say so every few seconds, and sweep up dead processes' replies."""
        while self.replies:
            await asyncio.sleep(settings.TOKENOFF_HEARTBEAT_SECONDS)
            try:
                await touch([reply.message_id for reply in self.replies.values()])
                if self.shared:
                    await self.recover()
            except Exception:
                log.exception("heartbeat failed")


# The request a process sends itself to end its listener; the wait for that is bounded all the same.
QUIT = "runtime.quit"
LISTENER_QUIT_SECONDS = 3


def group_name(conversation_id: int) -> str:
    return f"chat.conversation.{conversation_id}"


async def ask_worker(layer, worker: str, request: dict) -> bool:
    """Send a request to the process that owns a reply; False when no such process can exist."""
    try:
        await layer.send(worker, request)
    except (TypeError, ValueError):  # not a channel name: written by no process of this layer
        return False
    return True


def stop_request(conversation_id: int) -> dict:
    return {"type": "reply.stop", "conversation": conversation_id}


def idle_snapshot(conversation_id: int) -> dict:
    return {
        "type": "snapshot",
        "conversation": conversation_id,
        "message": None,
        "content": "",
        "seq": 0,
        "streaming": False,
    }


def done_frame(message: Message, finish_reason: str | None = None) -> dict:
    return {
        "type": "done",
        "conversation": message.conversation_id,
        "message": message.pk,
        "finish_reason": finish_reason or message.finish_reason,
        "usage": usage_frame(message.usage),
    }


_runtimes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Runtime] = weakref.WeakKeyDictionary()
_starting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _live_workers() -> set[str]:
    return {runtime.worker for runtime in _runtimes.values()}


async def runtime() -> Runtime:
    """This event loop's runtime, started (and the dead's replies recovered) on first use."""
    loop = asyncio.get_running_loop()
    if loop in _runtimes:
        return _runtimes[loop]
    lock = _starting.setdefault(loop, asyncio.Lock())
    async with lock:
        if loop not in _runtimes:
            instance = Runtime()
            await instance.start()
            _runtimes[loop] = instance
    return _runtimes[loop]


@database_sync_to_async
def owns(user, conversation_id: int) -> bool:
    return Conversation.objects.owned_by(user).filter(pk=conversation_id).exists()


async def shutdown() -> None:
    """Stop this loop's runtime: its background tasks end and its replies are left to recovery."""
    instance = _runtimes.pop(asyncio.get_running_loop(), None)
    if instance is None:
        return
    await instance.stop_listening()
    tasks = list(instance._background)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# ---------------------------------------------------------------------------------------------
# A user's sockets and replies as a whole: a deactivated user is cut off everywhere at once.

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


@database_sync_to_async
def streaming_replies_of(user_id: int) -> list[tuple[int, str]]:
    return list(
        Message.objects.filter(status=Message.Status.STREAMING, conversation__owner_id=user_id).values_list(
            "conversation_id", "worker"
        )
    )


async def stop_user_replies(user_id: int) -> None:
    """Stop every reply the user has in flight: on this process directly, on others through their channel."""
    layer = get_channel_layer()
    # Not runtime(): a process that has none (a command, a shell) must not start one and recover.
    local = {instance.worker: (loop, instance) for loop, instance in list(_runtimes.items())}
    for conversation_id, worker in await streaming_replies_of(user_id):
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


@database_sync_to_async
def session_holds(user_id: int, session_hash: str | None) -> bool:
    """Whether a socket's session may still chat: the user active, the password the one it signed in with."""
    # Read afresh: an admin may have just deactivated the user, or someone changed the password (which
    # voids every session: Django gives the one that changed it a new key).
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not session_hash:
        return False
    # The fallbacks: sessions signed before a SECRET_KEY rotation stay valid, as in Django's get_user.
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, candidate) for candidate in hashes)
