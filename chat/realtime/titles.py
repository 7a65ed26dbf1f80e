"""A new conversation's title, asked of a small model once its first reply has ended, at low priority.

Title requests wait in a small, bounded queue of the process: a few at a time, and none while a reply of
this process is still waiting for its first token (a first token is what a member watches; a title
can come a moment later). One that waits too long goes anyway; one that finds the queue full is dropped,
and the first words of the question stay the title, as when the title model fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from django.conf import settings

from chat.models import Conversation
from chat.realtime import frames, lanes
from chat.upstream import client as upstream
from chat.usage import accounting as usage

if TYPE_CHECKING:
    from chat.realtime.reply import Reply

log = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a title of at most six words for a chat that starts with the message below. "
    "Answer with the title only, no quotes, no punctuation at the end."
)


def clean_title(text: str) -> str:
    title = " ".join(text.replace("#", " ").replace("*", " ").strip().strip("\"'").split())
    return title[:80].rstrip(" .")


class TitleQueue:
    """The process's title requests: at most `running` at once, at most `waiting` in line, and none
    sent while a reply here waits for its first token (for `patience` seconds at most)."""

    def __init__(self, running: int, waiting: int, patience: float) -> None:
        self.slots = asyncio.Semaphore(running)
        self.capacity = running + waiting
        self.patience = patience
        self.queued = 0
        self.first_tokens_awaited = 0
        self.no_first_token_awaited = asyncio.Event()
        self.no_first_token_awaited.set()

    def awaiting_first_token(self) -> None:
        self.first_tokens_awaited += 1
        self.no_first_token_awaited.clear()

    def first_token_arrived(self) -> None:
        """A reply's first piece came (or the reply ended without one)."""
        self.first_tokens_awaited = max(0, self.first_tokens_awaited - 1)
        if not self.first_tokens_awaited:
            self.no_first_token_awaited.set()

    @contextlib.asynccontextmanager
    async def turn(self):
        """Yield True once it is this title's turn, or False at once when the queue is full."""
        if self.queued >= self.capacity:
            yield False
            return
        self.queued += 1
        try:
            async with self.slots:
                # Let every first token awaited go first; a steady stream of sends delays a title
                # by `patience` at most.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(asyncio.get_running_loop().time() + self.patience):
                        await self.no_first_token_awaited.wait()
                yield True
        finally:
            self.queued -= 1


def queue() -> TitleQueue:
    return TitleQueue(
        settings.TOKENOFF_TITLE_CONCURRENCY, settings.TOKENOFF_TITLE_QUEUE, settings.TOKENOFF_TITLE_PATIENCE
    )


async def name_conversation(reply: Reply, titles: TitleQueue) -> None:
    """A short title from a small model; the first words of the question stay when it fails."""
    question = reply.begun.user_message.content[:2000]
    if not question.strip():
        return  # attachments alone: their names stay the title
    async with titles.turn() as allowed:
        if not allowed:
            log.info("no title for conversation %s: the title queue is full", reply.conversation_id)
            return
        await _ask_for_title(reply, question)


async def _ask_for_title(reply: Reply, question: str) -> None:
    messages = [{"role": "system", "content": TITLE_PROMPT}, {"role": "user", "content": question}]
    owner, paid_by_team = reply.owner_id, reply.begun.reply.via_team_key
    # Only with a model the member may use, and room in their budgets for it.
    request = await _title_request(owner, paid_by_team, messages)
    if request is None:
        return
    answer, title = None, ""
    try:
        answer = await upstream.complete(reply.begun.key, request.model, messages, usage.TITLE_TOKENS)
    except upstream.UpstreamError as exc:
        log.info("no title for conversation %s: %s", reply.conversation_id, exc.code)
    finally:
        reported, text = (answer.usage, answer.text) if answer else (None, None)
        if answer is not None:
            title = clean_title(next((line for line in answer.text.splitlines() if line.strip()), ""))
        await _settle(owner, paid_by_team, request, messages, reported, text, reply.conversation_id, title)
    if title:
        renamed = frames.title(reply.conversation_id, title)
        await reply.runtime.publish(reply.conversation_id, frames.encode(renamed))


_title_request = lanes.background(usage.title_request)


@lanes.background
def _settle(owner, paid_by_team, request, messages, reported, text, conversation_id: int, title: str) -> None:
    """Count the title request (chat/usage/accounting.py) and save the title: one trip to the database."""
    usage.settle_title(owner, paid_by_team, request, messages, reported, text)
    if title:
        Conversation.objects.filter(pk=conversation_id).update(title=title)
