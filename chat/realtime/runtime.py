"""The process's side of replies: the replies running here, the sockets following each conversation
here, and the way to other processes (their frames through the conversation's group, stop and
attach requests through each process's own channel), the heartbeat and the recovery of dead
processes' replies. One runtime per event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
import time
import uuid
import weakref
from typing import Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.utils import timezone

from chat.models import Message
from chat.realtime import checkpoints, frames, lanes, sends, store, titles
from chat.realtime.frames import Code, Refused
from chat.realtime.reply import Reply

log = logging.getLogger(__name__)


class Follower(Protocol):
    """What follows conversations on this process: one socket's following.Follower."""

    channel_name: str

    async def send_frame(self, text: str) -> None: ...


class Runtime:
    """This process's replies and sockets (one per event loop)."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        # With the in-memory layer there is exactly one process: everything is local.
        self.shared = not isinstance(self.layer, InMemoryChannelLayer)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.replies: dict[int, Reply] = {}
        self.followers: dict[int, set[Follower]] = {}
        self._background: set[asyncio.Task] = set()
        self._heartbeat: asyncio.Task | None = None
        self._listener: asyncio.Task | None = None
        self.sockets_per_user: dict[int, int] = {}
        self.titles = titles.queue()
        # Frames to other processes in flight at once: more wait (a burst must not empty Redis's pool).
        self.group_sends = asyncio.Semaphore(settings.TOKENOFF_GROUP_SENDS)

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
        for message in await store.interrupt_orphans(_live_workers(), self.shared):
            log.warning("reply %s was left streaming by a dead process: interrupted", message.pk)
            await self.publish(message.conversation_id, frames.encode(done_frame(message)))

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

    def read_ahead(self, user) -> None:
        """A member's send facts read on the background database thread as their socket opens; not on
        an in-memory SQLite database (the tests'), where it would queue on the send's own thread."""
        if lanes.separate():
            self._spawn(store.warm(user))

    async def follow(self, conversation_id: int, follower: Follower) -> None:
        if self.shared:
            await self.layer.group_add(group_name(conversation_id), follower.channel_name)
        # Last and without a pause after it: attach takes its snapshot right after, before any delta.
        self.followers.setdefault(conversation_id, set()).add(follower)

    async def unfollow(self, follower: Follower, conversation_ids) -> None:
        for conversation_id in conversation_ids:
            followers = self.followers.get(conversation_id)
            if followers is not None:
                followers.discard(follower)
                if not followers:
                    del self.followers[conversation_id]
            if self.shared:
                await self.layer.group_discard(group_name(conversation_id), follower.channel_name)

    async def publish(self, conversation_id: int, text: str, delta: tuple[int, int] | None = None) -> None:
        """Send one encoded frame to every socket following the conversation, wherever it is.

        `delta` is a delta frame's (message, seq): it lets other processes' sockets drop a delta that a
        snapshot already holds without parsing the frame.
        """
        for follower in tuple(self.followers.get(conversation_id, ())):
            try:
                await follower.send_frame(text)
            except Exception:  # a socket that went away must not stop the reply
                log.debug("dropping a frame for a closed socket", exc_info=True)
        if self.shared and not (delta is not None and self._only_here(conversation_id)):
            event = {
                "type": "chat.frame",
                "text": text,
                "origin": self.worker,
                "conversation": conversation_id,
                "delta": delta,
            }
            try:
                async with self.group_sends:
                    await self.layer.group_send(group_name(conversation_id), event)
            except Exception:  # Redis away for a moment: other processes miss a frame, the reply goes on
                log.warning("could not send a frame to other processes", exc_info=True)

    def _only_here(self, conversation_id: int) -> bool:
        """Whether the conversation's reply runs here and no socket of another process follows it: its
        deltas then need not cross Redis (four round trips each, and a pop by every local follower that
        drops it). `started`, `done` and the rest always go to the group."""
        reply = self.replies.get(conversation_id)
        return reply is not None and not reply.followed_elsewhere

    async def _look_elsewhere(self, reply: Reply) -> None:
        """Whether a socket of another process follows the reply's conversation (its group holds a
        channel not of this process): until this says no, deltas go to the group. A socket of another
        process that comes later attaches through this process (`reply.attach`), which says yes."""
        group = group_name(reply.conversation_id)
        try:
            connection = self.layer.connection(self.layer.consistent_hash(group))
            members = await connection.zrange(self.layer._group_key(group), 0, -1)
        except Exception:  # not channels_redis as we know it: keep sending to the group
            log.debug("could not read the group of conversation %s", reply.conversation_id, exc_info=True)
            return
        ours = self.worker.split("!", 1)[0] + "!"
        elsewhere = any(not member.decode().startswith(ours) for member in members)
        if not elsewhere and not reply.attached_elsewhere:
            reply.followed_elsewhere = False

    # Replies -----------------------------------------------------------------------------------

    async def start_reply(self, user, frame: frames.Send | frames.Regenerate, follower: Follower) -> Reply:
        """Begin a reply to a send or a regenerate: saved, announced with `started`, then run as a task."""
        conversation_id = frame.conversation
        if conversation_id in self.replies:
            # Ownership first: busy would tell another user that the conversation exists.
            if not await store.owns(user, conversation_id):
                raise Refused(Code.NOT_FOUND, "No such conversation.")
            raise Refused(Code.BUSY, "A reply is already being written in this conversation.")
        attachments, project = None, getattr(frame, "project", None)
        assistant = getattr(frame, "assistant", None)
        if isinstance(frame, frames.Regenerate):
            fork, content, system_prompt, chosen = store.Fork(regenerate=frame.message), "", None, None
        else:
            fork = store.Fork(edit=frame.edit) if frame.edit is not None else None
            content, system_prompt, chosen = frame.content, frame.system_prompt, frame.parameters
            attachments = frame.attachment_choices()
        arguments = (user, conversation_id, frame.model, content, self.worker, system_prompt, fork, chosen)
        extensions = {"attachments": attachments, "project": project, "assistant": assistant}
        early = EarlyStart(self, frame.id)
        try:
            begun = await store.begin(*arguments, **extensions, early=early.hook)
        except Refused as refused:
            early.abandon()  # a write refused: the request already on its way is closed, nothing sent
            if refused.code != Code.BUSY or conversation_id is None:
                raise
            # The reply in the way may belong to a process that died: end it and try once more.
            await self.recover()
            begun = await store.begin(*arguments, **extensions)
        except BaseException:
            early.abandon()
            raise
        reply = early.saved(begun) or Reply(self, begun, frame.id)
        self.replies[reply.conversation_id] = reply
        try:
            await self.follow(reply.conversation_id, follower)
            await self.announce(reply, begun, fork)
        finally:
            # Whatever failed above (the channel layer, say), the reply is saved and must run to its end.
            self.launch(reply)
        return reply

    def launch(self, reply: Reply) -> None:
        """Run a begun reply as a task of this process, kept alive by the heartbeat (the API's too); one
        whose request went out early (EarlyStart) runs already, and may now send its frames."""
        self.replies[reply.conversation_id] = reply
        if reply.task is None:
            self.titles.awaiting_first_token()
            reply.task = self._spawn(reply.run())
        reply.announced.set()
        if self.shared:
            self._spawn(self._look_elsewhere(reply))
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = self._spawn(self._beat())

    async def announce(self, reply: Reply, begun: store.Begun, fork: store.Fork | None) -> None:
        """The reply's `started`, to every socket following the conversation."""
        started = frames.started(
            reply.client_id,
            reply.conversation_id,
            begun.conversation.title,
            begun.user_message.pk,
            reply.message_id,
            begun.chat_model.name,
            begun.user_message.content,
            # The branch on show changed: other tabs of the conversation load it again.
            fork=None if fork is None else ("regenerate" if fork.regenerate is not None else "edit"),
            notice=begun.notice,
            budget=begun.standing if begun.notice else None,
            parameters=begun.reply.parameters,
            attachments=begun.attachments,
        )
        await self.publish(reply.conversation_id, frames.encode(started))

    def first_token_arrived(self, reply: Reply) -> None:
        self.titles.first_token_arrived()

    async def name_conversation(self, reply: Reply) -> None:
        await titles.name_conversation(reply, self.titles)

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
            message = await store.streaming_message(conversation_id)
            if message is not None:
                await ask_worker(self.layer, message.worker, stop_request(conversation_id))

    async def attach(self, conversation_id: int, follower: Follower) -> dict | None:
        """Follow the conversation; the snapshot now, or None when another process will send it."""
        await self.follow(conversation_id, follower)
        reply = self.replies.get(conversation_id)
        if reply is not None:
            return reply.snapshot()
        message = await store.streaming_message(conversation_id)
        reply = self.replies.get(conversation_id)
        if reply is not None:  # it started while we looked: this socket already follows it
            return reply.snapshot()
        if message is None or message.worker == self.worker:
            # Nothing in flight, or a reply of ours that is starting right now: its `started` follows.
            return frames.idle_snapshot(conversation_id)
        if self.shared:
            request = {
                "type": "reply.attach",
                "conversation": conversation_id,
                "reply_to": follower.channel_name,
            }
            if await ask_worker(self.layer, message.worker, request):
                return None
        # Streaming in the database but running nowhere: its process died.
        for ended in await store.interrupt_message(message.pk, message.worker):
            await self.publish(conversation_id, frames.encode(done_frame(ended)))
        return frames.idle_snapshot(conversation_id)

    async def orphaned(self, conversation_id: int) -> bool:
        """An attach got no answer in time: end the reply if its process has stopped beating.

        False when the owner still renews its heartbeat: it is alive, only slow, and is asked again.
        """
        message = await store.streaming_message(conversation_id)
        if message is None:
            return True
        alive_since = timezone.now() - timezone.timedelta(seconds=2 * settings.TOKENOFF_HEARTBEAT_SECONDS)
        if message.heartbeat is not None and message.heartbeat > alive_since:
            return False
        for ended in await store.interrupt_message(message.pk, message.worker):
            await self.publish(conversation_id, frames.encode(done_frame(ended)))
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
                    conversation_id = request.get("conversation")
                    if reply is not None:  # from now on its deltas go to the group, before the snapshot
                        reply.attached_elsewhere = reply.followed_elsewhere = True
                    snapshot = reply.snapshot() if reply else frames.idle_snapshot(conversation_id)
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
        """While replies run here: each tick, one statement saves the text of every reply that grew
        since its last checkpoint and renews all their heartbeats; with several processes, the replies
        of dead ones are swept up every heartbeat period. Never on a first token's path: a background
        thread runs it (chat/realtime/lanes.py)."""
        every = min(settings.TOKENOFF_CHECKPOINT_SECONDS, settings.TOKENOFF_HEARTBEAT_SECONDS)
        last_sweep = time.monotonic()
        while self.replies:
            await asyncio.sleep(every)
            replies = list(self.replies.values())
            saves = [due for reply in replies if (due := reply.checkpoint_due()) is not None]
            try:
                await checkpoints.save(saves, [reply.message_id for reply in replies])
            except Exception:
                log.exception("checkpoint failed")
                for reply in replies:
                    reply.saved_seq = 0  # saved at the next tick (or at the end) instead
            if self.shared and time.monotonic() - last_sweep >= settings.TOKENOFF_HEARTBEAT_SECONDS:
                last_sweep = time.monotonic()
                try:
                    await self.recover()
                except Exception:
                    log.exception("recovery of dead processes' replies failed")


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


def done_frame(message: Message) -> dict:
    """The `done` of a reply ended here by recovery: as it was saved (interrupted, estimated usage)."""
    return frames.done(
        message.conversation_id,
        message.pk,
        message.finish_reason,
        message.usage,
        message.served_model,
        message.last_seq,
        len(message.content),
        message.parameters,  # recorded when it began
    )


_runtimes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Runtime] = weakref.WeakKeyDictionary()
_starting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def local_runtimes() -> list[tuple[asyncio.AbstractEventLoop, Runtime]]:
    """Every runtime of this process, with its loop (one per event loop that served a socket)."""
    return list(_runtimes.items())


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


class EarlyStart:
    """A send's upstream request, started from the database thread as soon as store.begin has read what it
    needs, while the send's rows are written (sends.Early): a reply that runs before it has ids."""

    def __init__(self, runtime: Runtime, client_id: str) -> None:
        self.runtime = runtime
        self.client_id = client_id
        self.loop = asyncio.get_running_loop()
        # The loop's context, not the database thread's: asgiref marks the thread's as inside its call,
        # and a task born there would be refused the database thread ("would deadlock").
        self.context = contextvars.copy_context()
        self.request: sends.Early | None = None
        self.reply: Reply | None = None
        self.abandoned = False

    def hook(self, request: sends.Early) -> None:
        """On the database thread: the request goes out on the event loop at once."""
        self.request = request
        self.loop.call_soon_threadsafe(self._start, context=self.context)

    def _start(self) -> None:
        # Once, and never after abandon(); begin's result reaches the loop after this call (the loop
        # runs callbacks in the order they came), but saved() makes sure all the same.
        if self.reply is not None or self.abandoned or self.request is None:
            return
        self.reply = Reply(self.runtime, None, self.client_id, early=self.request)
        self.runtime.titles.awaiting_first_token()
        self.reply.task = self.runtime._spawn(self.reply.run())

    def saved(self, begun: store.Begun) -> Reply | None:
        """The early reply, now with its rows; None when the send went the usual way."""
        self._start()
        if self.reply is not None:
            self.reply.saved(begun)
        return self.reply

    def abandon(self) -> None:
        self.abandoned = True
        if self.reply is not None:
            self.reply.abandon()
            self.reply = None
