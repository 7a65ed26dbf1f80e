"""The life of one reply: a task owned by the server, not by a socket.

Pieces from the upstream are coalesced into numbered deltas (one frame per window at most), saved at
checkpoints and at the end, and published to every socket following the conversation; a new
conversation is then named by a small model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from channels.db import database_sync_to_async
from django.conf import settings

from chat.realtime import frames, store
from chat.realtime.frames import FinishReason
from chat.upstream import client as upstream
from chat.usage import accounting as usage

log = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a title of at most six words for a chat that starts with the message below. "
    "Answer with the title only, no quotes, no punctuation at the end."
)


def clean_title(text: str) -> str:
    title = " ".join(text.replace("#", " ").replace("*", " ").strip().strip("\"'").split())
    return title[:80].rstrip(" .")


class Host(Protocol):
    """Where a reply runs: runtime.Runtime, which sends its frames on and forgets it when it ends."""

    async def publish(self, conversation_id: int, text: str, delta: tuple[int, int] | None = ...) -> None: ...

    def forget(self, reply: Reply) -> None: ...


class Reply:
    """One reply in flight on this process."""

    def __init__(self, runtime: Host, begun: store.Begun, client_id: str) -> None:
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
            if self.stopping:
                raise asyncio.CancelledError
            async with asyncio.timeout(settings.TOKENOFF_REPLY_TIMEOUT):
                async with upstream.open_stream(
                    self.begun.key, self.begun.chat_model, self.begun.upstream_messages
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
            self.wake.set()
            # A pump that failed (a dead channel layer) must not keep the reply from ending.
            (pump_failure,) = await asyncio.gather(pump, return_exceptions=True)
            if isinstance(pump_failure, Exception):
                log.error("reply %s: sending deltas failed: %r", self.message_id, pump_failure)
        if error is not None:
            fields.update(
                finish_reason=FinishReason.ERROR, error_code=error.code, error_message=error.message
            )
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
                frame = frames.delta(self.conversation_id, self.message_id, self.seq, content)
                text = frames.encode(frame)
                await self.runtime.publish(self.conversation_id, text, (self.message_id, self.seq))
                next_frame = time.monotonic() + window
                if not self.finished and time.monotonic() - last_checkpoint >= checkpoint_every:
                    last_checkpoint = time.monotonic()
                    try:
                        await store.save_checkpoint(self.message_id, "".join(self.sent), self.seq)
                    except Exception:  # a failed checkpoint must not end the reply; the final save retries
                        log.exception("checkpoint of reply %s failed", self.message_id)
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
        """A short title from a small model; the first words of the question stay when it fails."""
        question = self.begun.user_message.content[:2000]
        if not question.strip():
            return  # attachments alone: their names stay the title
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
            await store.set_title(self.conversation_id, title)
            renamed = frames.title(self.conversation_id, title)
            await self.runtime.publish(self.conversation_id, frames.encode(renamed))
