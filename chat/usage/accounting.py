"""Tokens and cost of replies, and the monthly budgets they count against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from chat.models.budgets import Budget, Spend, month_start, next_month

# Without the upstream's count (a stopped or failed reply), about four characters make a token in
# English text; a few tokens more per message cover the chat format's own markers.
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
NOTICE_SHARE = 0.8
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_json(self) -> dict:
        data = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.reasoning_tokens is not None:
            data["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        if self.cached_tokens is not None:
            data["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        if self.estimated:
            data["estimated"] = True
        return data


def _tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)  # ceiling division


def estimate(history: list[dict], reply: str) -> Usage:
    """What the upstream would have counted, from the text alone."""
    prompt = sum(_tokens(message["content"]) + TOKENS_PER_MESSAGE for message in history)
    return Usage(prompt_tokens=prompt, completion_tokens=_tokens(reply), estimated=True)


def from_upstream(reported: dict | None, history: list[dict], reply: str) -> Usage:
    """The upstream's own count when it gave one, else an estimate marked as such."""
    if not isinstance(reported, dict):
        return estimate(history, reply)
    prompt, completion = reported.get("prompt_tokens"), reported.get("completion_tokens")
    if not _count(prompt) or not _count(completion):
        return estimate(history, reply)
    details = reported.get("completion_tokens_details")
    prompt_details = reported.get("prompt_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        reasoning_tokens=reasoning if _count(reasoning) else None,
        cached_tokens=cached if _count(cached) else None,
    )


def _count(value) -> bool:
    """A token count the upstream may be believed on: a whole number, not negative, not absurd."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def cost_of(usage: Usage, input_price: Decimal | None, output_price: Decimal | None) -> Decimal | None:
    """The reply's cost from the model's prices per million tokens; None when the model has none."""
    if input_price is None and output_price is None:
        return None
    cost = usage.prompt_tokens * (input_price or 0) + usage.completion_tokens * (output_price or 0)
    return (Decimal(cost) / MILLION).quantize(Decimal("0.000001"))


def record(user_id: int, via_team_key: bool, usage: Usage, cost: Decimal | None, when: dt.datetime) -> None:
    """Count a reply against the user's month and, when the team key paid, the team's."""
    month = month_start(when)
    Spend.add(month, usage.total_tokens, cost or Decimal(0), user_id=user_id)
    if via_team_key:
        Spend.add(month, usage.total_tokens, cost or Decimal(0))


@dataclass(frozen=True)
class Standing:
    """Where a user stands against the budgets that apply to their next reply."""

    over: str | None  # "your" or "the team's": which budget is used up
    share: float  # the highest share used of any budget that applies
    resets: dt.date

    @property
    def notice(self) -> str | None:
        if self.over is None and self.share >= NOTICE_SHARE:
            return (
                f"{int(self.share * 100)} % of the monthly budget is used; it resets on {self.resets:%B} 1."
            )
        return None


def standing(user, via_team_key: bool, now: dt.datetime | None = None) -> Standing:
    month = month_start(now or timezone.now())
    checks = [(Budget.objects.filter(user=user).first(), Spend.of(month, user), "your")]
    if via_team_key:
        checks.append((Budget.objects.filter(is_team=True).first(), Spend.of(month), "the team's"))
    over, share = None, 0.0
    for budget, spend, whose in checks:
        if budget is None:
            continue
        used = budget.share_used(spend)
        share = max(share, used)
        if used >= 1 and over is None:
            over = whose
    return Standing(over=over, share=share, resets=next_month(month))
