"""What of a branch goes upstream: never more than the model's window holds with room for the reply.

A branch that fits goes whole. One that does not keeps, in this order: the system prompt, the first
exchange (the first question and its reply), then the newest turns that fit, the latest question
always whole; the oldest turns after the first exchange are left out of the request (they stay in
the history, the page and review).

The prefix stays stable between turns so that the upstream's prompt cache keeps hitting: turns are
not dropped one by one as the branch grows, but in blocks. The cut is a function of the history
alone, replayed turn by turn from the start: each time the turns kept would overflow the budget,
the oldest of them are left out until what is sent is down to CUT_TO of the budget; then the cut
stays where it is until the branch overflows again. Every send replays the same history to the
same cut, so two consecutive requests share everything up to the newer turns.

The budget is the window less the room kept for the reply (the model's cap on a reply when one is
set, else REPLY_ROOM, and never more than a quarter of the window) and a margin of a fiftieth of
the window, counted as the upstream counts (chat/upstream/tokens.py).

A message with attachments is sized by its text and its attachments' stored estimates (`attachment_tokens`
on its row), and its list content (chat/attachments/parts.py, `render`) is built only when it is sent:
the images of turns left out are never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chat.upstream import tokens

REPLY_ROOM = 8192  # tokens kept for the reply when the model sets no cap of its own
CUT_TO = 0.7  # a cut leaves out enough to get down to this share of the budget
MARGIN = 50  # a fiftieth of the window, for how the upstream frames a chat beyond our count
SUMMARY_INTRO = "A summary of the earlier part of this conversation, whose messages are left out:\n\n"


@dataclass(frozen=True)
class Limits:
    """A model's window and the most a reply may write (None: not known)."""

    model: str
    window: int | None
    max_output: int | None = None

    def budget(self) -> int | None:
        """The prompt tokens a request may hold; None when the window is not known."""
        if not self.window:
            return None
        room = min(self.max_output or REPLY_ROOM, self.window // 4)
        return self.window - room - self.window // MARGIN


@dataclass(frozen=True)
class Fitted:
    """What goes upstream; where the context starts after the first exchange when something before it
    is not sent (None: all of it is); the messages the cut leaves out that no summary covers."""

    messages: list[dict]
    context_start: int | None = None
    left_out: tuple[dict, ...] = ()
    summary: dict | None = None  # the summary sent in place of the messages it covers


def _size(message: dict, model: str) -> int:
    text = {"role": message["role"], "content": message["content"]}
    counted = tokens.count_messages([text], model).tokens - tokens.REPLY_PRIMING
    return counted + message.get("attachment_tokens", 0)


def _turns(rows: list[dict]) -> list[list[dict]]:
    """Rows grouped into turns, each a question and what follows it up to the next question."""
    turns: list[list[dict]] = []
    for row in rows:
        if row["role"] == "user" or not turns:
            turns.append([row])
        else:
            turns[-1].append(row)
    return turns


def first_kept(sizes: list[int], fixed: int, budget: int) -> int:
    """The index of the first turn sent: the branch replayed turn by turn, cut in blocks on overflow."""
    cut, total = 0, fixed
    for latest, size in enumerate(sizes):
        total += size
        if total <= budget:
            continue
        while total > budget * CUT_TO and cut < latest:
            total -= sizes[cut]
            cut += 1
    return cut


def _public(row: dict, render: Callable[[dict], list] | None = None) -> dict:
    if render is not None and row.get("attachments"):
        return {"role": row["role"], "content": render(row)}
    return {"role": row["role"], "content": row["content"]}


def fit(
    rows: list[dict],
    system_prompt: str,
    limits: Limits,
    summary: dict | None = None,
    render: Callable[[dict], list] | None = None,
) -> Fitted:
    """The request's messages for a branch: `rows` oldest first (each with its `id`, `role`, `content`;
    with attachments, their `attachments` and `attachment_tokens`, which `render` makes a list content of).

    `summary` (its `content`, and `until`: the id of the last message it covers) goes, as a system
    message after the first exchange, in place of the messages up to `until` when that one is on the
    branch. A system message: the summary is neither the member's words nor a reply of the model's,
    and it stays in the stable prefix.
    """
    head = [{"role": "system", "content": system_prompt}] if system_prompt else []
    turns = _turns(rows)
    first, later = (turns[0], turns[1:]) if len(turns) > 1 else ([], turns)
    head += first  # rendered last: sized by their rows
    ids = [row["id"] for turn in later for row in turn]
    if summary is not None and summary["until"] in ids[:-1]:
        head.append({"role": "system", "content": SUMMARY_INTRO + summary["content"]})
        later = _turns([row for turn in later for row in turn][ids.index(summary["until"]) + 1 :])
    else:
        summary = None
    budget = limits.budget()
    cut = 0
    if budget is not None and later:
        fixed = tokens.REPLY_PRIMING + sum(_size(message, limits.model) for message in head)
        sizes = [sum(_size(row, limits.model) for row in turn) for turn in later]
        cut = first_kept(sizes, fixed, budget)
    sent = [_public(row, render) for row in head + [row for turn in later[cut:] for row in turn]]
    left_out = tuple(row for turn in later[:cut] for row in turn)
    start = later[cut][0]["id"] if (cut or summary) and later else None
    return Fitted(sent, start, left_out, summary)
