"""The life of one reply: a task owned by the server, not by a socket.

Pieces from the upstream are coalesced into numbered deltas (one frame per window at most), saved at
checkpoints and at the end, and published to every socket following the conversation; a new
conversation is then named by a small model (chat/realtime/titles.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from django.conf import settings

from chat.realtime import frames, sends, store
from chat.realtime.frames import FinishReason
from chat.upstream import client as upstream

log = logging.getLogger(__name__)


class Host(Protocol):
    """Where a reply runs: runtime.Runtime, which sends its frames on and forgets it when it ends."""

    async def publish(self, conversation_id: int, text: str, delta: tuple[int, int] | None = ...) -> None: ...

    def forget(self, reply: Reply) -> None: ...

    def first_token_arrived(self, reply: Reply) -> None: ...

    async def name_conversation(self, reply: Reply) -> None: ...


class Reply:
    """One reply in flight on this process."""

    def __init__(
        self, runtime: Host, begun: store.Begun | None, client_id: str, early: sends.Early | None = None
    ) -> None:
        self.runtime = runtime
        self.client_id = client_id
        # What goes upstream: the begun rows' request, or one ready before them (`early`, then
        # `saved` gives the rows, and the reply publishes nothing before `announced`).
        self.request: store.Begun | sends.Early = early or begun  # type: ignore[assignment]
        self.announced = asyncio.Event()
        self.abandoned = False
        self.begun: store.Begun | None = None
        self.conversation_id = self.message_id = self.owner_id = None
        if begun is not None:
            self.saved(begun)
        if early is None:
            self.announced.set()
        self.sent: list[str] = []  # one string per delta frame already sent (seq = len)
        self.saved_seq = 0  # the seq of the text saved so far (checkpoints: runtime.Runtime._beat)
        self.first_token = False
        # Whether a socket of another process may follow it (runtime.Runtime._look_elsewhere).
        self.followed_elsewhere = True
        self.attached_elsewhere = False
        self.pending: list[str] = []  # pieces received since the last frame
        self.wake = asyncio.Event()
        self.finished = False
        self.stopping = False
        self.running = False
        self.task: asyncio.Task | None = None

    def saved(self, begun: store.Begun) -> None:
        """The reply's rows, written (by now, or while its early request was on its way)."""
        self.begun = begun
        self.conversation_id = begun.conversation.pk
        self.message_id = begun.reply.pk
        self.owner_id = begun.conversation.owner_id

    def abandon(self) -> None:
        """An early request whose rows could not be written: closed, and nothing of it saved or sent."""
        self.abandoned = True
        if not self.first_token:
            self._first_token_done()  # none will come: titles need not wait for it (nor for a task never run)
        self.announced.set()
        if self.task is not None:
            self.task.cancel()

    @property
    def seq(self) -> int:
        return len(self.sent)

    def snapshot(self) -> dict:
        """The reply as of the last delta sent: later deltas continue it exactly."""
        return frames.snapshot(self.conversation_id, self.message_id, "".join(self.sent), self.seq, True)

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
            if self.stopping or self.abandoned:
                raise asyncio.CancelledError
            async with asyncio.timeout(settings.TOKENOFF_REPLY_TIMEOUT):
                request = self.request
                async with upstream.open_stream(
                    request.key, request.chat_model, request.upstream_messages
                ) as stream:
                    try:
                        async for piece in stream:
                            if not self.first_token:
                                self._first_token_done()
                            self.pending.append(piece)
                            self.wake.set()
                    finally:
                        # Kept whatever happens next: a stopped or failed reply still says who served it.
                        fields = {"served_model": stream.served_model, "usage": stream.usage}
                    fields["finish_reason"] = stream.finish_reason or "stop"
        except asyncio.CancelledError:
            if not (self.stopping or self.abandoned):
                raise  # the process is going down: the reply will be found and marked interrupted
            asyncio.current_task().uncancel()
            fields["finish_reason"] = FinishReason.STOPPED
        except upstream.UpstreamError as exc:
            error = exc
        except TimeoutError:
            error = upstream.UpstreamError("upstream_unavailable", "The reply took too long and was ended.")
        except Exception:
            log.exception("reply %s failed", self.message_id)
            error = upstream.UpstreamError("upstream_error", "Something went wrong while writing the reply.")
        finally:
            self.finished = True
            if not self.first_token:
                self._first_token_done()  # none will come: titles need not wait for it
            self.wake.set()
            # A pump that failed (a dead channel layer) must not keep the reply from ending.
            (pump_failure,) = await asyncio.gather(pump, return_exceptions=True)
            if isinstance(pump_failure, Exception):
                log.error("reply %s: sending deltas failed: %r", self.message_id, pump_failure)
        if self.abandoned:
            return  # its rows were never written: nothing to save, no one to tell
        if error is not None:
            fields.update(
                finish_reason=FinishReason.ERROR, error_code=error.code, error_message=error.message
            )
        await self.announced.wait()  # a short early reply may end before its rows are written
        await self._finish(fields, error)

    def _first_token_done(self) -> None:
        self.first_token = True
        self.runtime.first_token_arrived(self)

    async def _pump(self) -> None:
        """Send what arrived as one delta, at most one a window: the first piece goes out at once."""
        window = settings.TOKENOFF_COALESCE_SECONDS
        next_frame = 0.0
        await self.announced.wait()  # no delta before `started`
        if self.abandoned:
            return
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
                frame = frames.delta(self.conversation_id, self.message_id, self.seq, content)
                text = frames.encode(frame)
                await self.runtime.publish(self.conversation_id, text, (self.message_id, self.seq))
                next_frame = time.monotonic() + window
            if self.finished and not self.pending:
                return

    async def _finish(self, fields: dict, error: upstream.UpstreamError | None) -> None:
        fields.update(content="".join(self.sent), last_seq=self.seq)
        try:
            saved = await store.save_final(self.begun, fields)
        except Exception:
            # Whatever the upstream sent that the database refused, the reply still ends, keeping its text.
            log.exception("final save of reply %s failed", self.message_id)
            error = error or upstream.UpstreamError("upstream_error", "The reply could not be saved in full.")
            fields.update(
                finish_reason=FinishReason.ERROR,
                error_code=error.code,
                error_message=error.message,
                usage=None,
            )
            saved = await store.save_fallback(self.message_id, fields)
        finally:
            self.runtime.forget(self)
        if not saved:
            return  # someone else ended it (as interrupted) and sent its done already
        if error is not None:
            failed = frames.error(error.code, error.message, self.client_id, self.conversation_id)
            await self.runtime.publish(self.conversation_id, frames.encode(failed))
        done = frames.done(
            self.conversation_id,
            self.message_id,
            fields["finish_reason"],
            fields.get("usage"),
            fields.get("served_model"),
            self.seq,
            len(fields["content"]),
            self.begun.reply.parameters,
        )
        await self.runtime.publish(self.conversation_id, frames.encode(done))
        if self.begun.new_conversation and error is None and fields["finish_reason"] != FinishReason.STOPPED:
            await self._name_conversation()

    async def _name_conversation(self) -> None:
        """A title for the new conversation, through the process's title queue (chat/realtime/titles.py)."""
        await self.runtime.name_conversation(self)

    def checkpoint_due(self) -> tuple[int, str, int] | None:
        """The text to save at a checkpoint (id, content, seq) if it grew since the last one."""
        if self.finished or self.seq == self.saved_seq:
            return None
        self.saved_seq = self.seq
        return self.message_id, "".join(self.sent), self.seq
