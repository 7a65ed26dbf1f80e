"""One socket following conversations: what the runtime sends frames to, and the attach handshake.

An attach to a reply running on another process waits for that process's snapshot; meanwhile the
deltas that reach this process through the conversation's group are held, so that none is lost or
doubled. If no snapshot comes in time, the reply is ended as interrupted when its process has stopped
beating, and asked for again when it is only slow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from django.conf import settings

from chat.realtime import frames
from chat.realtime.runtime import Runtime

# Conversations one socket follows at most: the page shows one, and uses the frames of those it left
# lately (a title, another tab's send, the end of a reply it started) for its sidebar. Without a bound a
# socket open for days gains one conversation a send (its group, its entry in the runtime: about 0.4 KB
# each) until it closes. A conversation whose reply runs on this process is never the one left.
FOLLOWED_AT_MOST = 10


class Follower:
    """The conversations one socket follows, and its attaches still waiting for another process."""

    def __init__(self, runtime: Runtime, channel_name: str, send: Callable[[str], Awaitable[None]]) -> None:
        self.runtime = runtime
        self.channel_name = channel_name
        self._send = send
        self.following: dict[int, None] = {}  # in the order last followed: the oldest is left first
        self.awaiting_snapshot: dict[int, list[dict]] = {}
        # Per conversation, the (message, seq) of the last snapshot from another process.
        self.snapshot_floor: dict[int, tuple[int, int]] = {}
        self.attach_timers: dict[int, asyncio.TimerHandle] = {}
        self.tasks: set[asyncio.Task] = set()

    async def send_frame(self, text: str) -> None:
        await self._send(text)

    async def send(self, frame: dict) -> None:
        await self._send(frames.encode(frame))

    async def started(self, conversation_id: int) -> None:
        """This socket started a reply there: the runtime already sends it that conversation's frames."""
        await self._followed(conversation_id)

    async def attach(self, conversation_id: int) -> None:
        await self._followed(conversation_id)
        # Until another process answers, its deltas wait here, so that none is lost or doubled.
        self.awaiting_snapshot.setdefault(conversation_id, [])
        await self._request_snapshot(conversation_id)

    async def close(self) -> None:
        for conversation_id in list(self.attach_timers):
            self._cancel_timer(conversation_id)
        for task in self.tasks:
            task.cancel()
        await self.runtime.unfollow(self, list(self.following))
        self.following.clear()

    async def _followed(self, conversation_id: int) -> None:
        """Note the conversation as followed last; leave the oldest beyond FOLLOWED_AT_MOST, but none
        whose reply runs here (its `done` is owed to the socket that got its `started`). The one on show
        is always the last attached or sent to, so it is never the one left."""
        self.following.pop(conversation_id, None)
        self.following[conversation_id] = None
        running = self.runtime.replies
        beyond = len(self.following) - FOLLOWED_AT_MOST
        leavable = [c for c in self.following if c not in running and c != conversation_id]
        for oldest in leavable[: max(beyond, 0)]:
            del self.following[oldest]
            self._cancel_timer(oldest)
            self.awaiting_snapshot.pop(oldest, None)
            self.snapshot_floor.pop(oldest, None)
            await self.runtime.unfollow(self, [oldest])

    async def _request_snapshot(self, conversation_id: int) -> None:
        snapshot = await self.runtime.attach(conversation_id, self)
        if snapshot is not None:
            self.awaiting_snapshot.pop(conversation_id, None)
            await self.send(snapshot)
            return
        self._cancel_timer(conversation_id)
        self.attach_timers[conversation_id] = asyncio.get_running_loop().call_later(
            settings.TOKENOFF_ATTACH_TIMEOUT, self._start_owner_silent, conversation_id
        )

    def _start_owner_silent(self, conversation_id: int) -> None:
        task = asyncio.ensure_future(self._owner_silent(conversation_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _cancel_timer(self, conversation_id: int) -> None:
        timer = self.attach_timers.pop(conversation_id, None)
        if timer is not None:
            timer.cancel()

    async def _owner_silent(self, conversation_id: int) -> None:
        """No snapshot from the reply's process in time: end the reply if that process is gone."""
        self.attach_timers.pop(conversation_id, None)
        if conversation_id not in self.awaiting_snapshot:
            return
        if await self.runtime.orphaned(conversation_id):
            if self.awaiting_snapshot.pop(conversation_id, None) is not None:
                await self.send(frames.idle_snapshot(conversation_id))
        else:
            await self._request_snapshot(conversation_id)  # alive but slow: ask again

    # Channel-layer events from other processes -------------------------------------------------

    async def group_frame(self, event: dict) -> None:
        """A frame another process published to the conversation's group."""
        if event["origin"] == self.runtime.worker:
            return  # this process already sent it straight to the socket
        conversation_id = event["conversation"]
        waiting = self.awaiting_snapshot.get(conversation_id)
        if waiting is not None:
            waiting.append(event)
            return
        # The owner may take a snapshot between counting a delta and sending it to the group.
        if event.get("delta") and tuple(event["delta"]) <= self.snapshot_floor.get(conversation_id, (0, 0)):
            return
        await self.send_frame(event["text"])

    async def snapshot_arrived(self, event: dict) -> None:
        """The owning process answered an attach: the snapshot, then the deltas held meanwhile."""
        snapshot = event["snapshot"]
        waiting = self.awaiting_snapshot.pop(snapshot["conversation"], None)
        if waiting is None:
            return  # too late: the attach already timed out
        self._cancel_timer(snapshot["conversation"])
        await self.send(snapshot)
        floor = (snapshot["message"] or 0, snapshot["seq"])
        self.snapshot_floor[snapshot["conversation"]] = floor
        for held in waiting:
            delta = held.get("delta")
            # After an idle snapshot the reply had ended: its buffered deltas would only repeat it.
            if not delta or (snapshot["streaming"] and tuple(delta) > floor):
                await self.send_frame(held["text"])
