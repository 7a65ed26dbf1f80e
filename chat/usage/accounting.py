"""Tokens and cost of replies, and the monthly budgets they count against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from chat.models import ChatModel, budgets, freshness
from chat.models.budgets import Spend, month_start, next_month
from chat.upstream import tokens

# Without the upstream's count (a stopped or failed reply), about four characters make a token in
# English text; a few tokens more per message cover the chat format's own markers.
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
NOTICE_SHARE = 0.8
# What a request reserves must rarely fall short of what the upstream then counts: three characters
# a token (fewer than the estimate's four) for the input, and the longest output it may ask for.
RESERVE_CHARS_PER_TOKEN = 3
TITLE_TOKENS = 30
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


def content_estimate(content, chars_per_token: int = CHARS_PER_TOKEN) -> int:
    """A message content's tokens by its characters: a text, or a list of parts (attachments) whose
    images count by their size (chat/upstream/tokens.py), never by the length of their base64."""
    if isinstance(content, str):
        return -(-len(content) // chars_per_token)
    total = 0
    for part in content if isinstance(content, list) else ():
        if isinstance(part, dict) and part.get("type") == "image_url":
            total += tokens.image_part_tokens(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            total += -(-len(part["text"]) // chars_per_token)
    return total


def estimate(history: list[dict], reply: str) -> Usage:
    """What the upstream would have counted, from the text (and the images' sizes) alone."""
    prompt = sum(content_estimate(message["content"]) + TOKENS_PER_MESSAGE for message in history)
    return Usage(prompt_tokens=prompt, completion_tokens=_tokens(reply), estimated=True)


def from_upstream(reported: dict | None, history: list[dict], reply: str, failed: bool = False) -> Usage:
    """The upstream's own count when it gave one, else an estimate; a failure that sent nothing: zero."""
    prompt = completion = None
    if isinstance(reported, dict):
        prompt, completion = reported.get("prompt_tokens"), reported.get("completion_tokens")
    if not _count(prompt) or not _count(completion):
        return Usage(0, 0) if failed and not reply else estimate(history, reply)
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


def cost_of(
    usage: Usage,
    input_price: Decimal | None,
    output_price: Decimal | None,
    cached_input_price: Decimal | None = None,
) -> Decimal | None:
    """The reply's cost from the model's prices per million tokens; None when the model has none.

    Input the upstream read from its prompt cache costs the cached-input price when the catalogue has one
    (else the input price, as before: nothing is guessed)."""
    if input_price is None and output_price is None:
        return None
    cached = min(usage.cached_tokens or 0, usage.prompt_tokens) if cached_input_price is not None else 0
    cost = (
        (usage.prompt_tokens - cached) * (input_price or 0)
        + cached * (cached_input_price or 0)
        + usage.completion_tokens * (output_price or 0)
    )
    return (Decimal(cost) / MILLION).quantize(Decimal("0.000001"))


def record(
    user_id: int,
    via_team_key: bool,
    usage: Usage,
    cost: Decimal | None,
    when: dt.datetime,
    *,
    reply_id: int | None = None,
    hold: int | None = None,
) -> None:
    """Count a request against the user's month and, when the team key paid, the team's; free what it held."""
    month = month_start(when)
    with transaction.atomic():
        # Behind the budgets' lock: a send reserving meanwhile sees the spending and the release, or neither.
        budgets.lock(user_id, via_team_key)
        Spend.add_for(month, usage.total_tokens, cost or Decimal(0), user_id, via_team_key)
        if reply_id is not None or hold is not None:
            budgets.release(message_id=reply_id, pk=hold)


def input_tokens(messages: list[dict]) -> int:
    """A generous count of a request's input, for its reservation."""
    per_message = (
        content_estimate(m["content"], RESERVE_CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE for m in messages
    )
    return TOKENS_PER_MESSAGE + sum(per_message)


def reserve_reply(
    user_id: int, via_team_key: bool, model: ChatModel, history: list[dict], reply_id: int
) -> budgets.Hold | None:
    """Hold the reply's input and the most it may write against the budgets, before the upstream is asked."""
    longest = model.max_output_tokens or settings.TOKENOFF_RESERVE_OUTPUT_TOKENS
    prices = (model.input_price, model.output_price)
    return budgets.reserve(user_id, via_team_key, input_tokens(history), longest, prices, message_id=reply_id)


def prices_of(model_name: str) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """The model's input, output and cached-input prices (cost_of's order)."""
    columns = ("input_price", "output_price", "cached_input_price")
    prices = ChatModel.objects.filter(name=model_name).values_list(*columns)
    return prices.first() or (None, None, None)


@dataclass(frozen=True)
class TitleRequest:
    """A title request allowed: its model, prices and reservation (None when no budget applies)."""

    model: str
    prices: tuple[Decimal | None, Decimal | None]
    hold: int | None


def title_request(
    user_id: int, via_team_key: bool, messages: list[dict], output_tokens: int = TITLE_TOKENS
) -> TitleRequest | None:
    """The title model's request if the member may use that model and the budgets have room for its
    input and `output_tokens` of answer (a title's, or a summary's); else None."""
    user = get_user_model().objects.filter(pk=user_id).first()
    # The send's rule and its cached facts (chat/models/freshness.py).
    model = ChatModel.for_send(user, settings.TOKENOFF_TITLE_MODEL) if user is not None else None
    if model is None:
        return None
    prices = (model.input_price, model.output_price)
    # A process that dies in the call leaves its reservation: it stops counting when the call would end.
    seconds = settings.TOKENOFF_CONNECT_TIMEOUT + settings.TOKENOFF_READ_TIMEOUT
    try:
        hold = budgets.reserve(
            user_id,
            via_team_key,
            input_tokens(messages),
            output_tokens,
            prices,
            min_output=output_tokens,
            expires=timezone.now() + dt.timedelta(seconds=seconds),
        )
    except budgets.OverBudget:
        return None
    return TitleRequest(model.name, prices, hold.pk if hold else None)


def settle_title(
    user_id: int, via_team_key: bool, request: TitleRequest, messages: list[dict], reported, text: str | None
) -> None:
    """Count a title request (nothing when it failed: `text` None) and free its reservation."""
    counted = from_upstream(reported, messages, text or "", failed=text is None)
    cost = cost_of(counted, *request.prices)
    record(user_id, via_team_key, counted, cost, timezone.now(), hold=request.hold)


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
    # Which budgets apply comes from the send facts (chat/models/freshness.py); what was spent is read
    # fresh, and only for a budget that applies.
    with freshness.snapshot():
        checks = [(budgets.user_budget(user.pk), lambda: Spend.of(month, user), "your")]
        if via_team_key:
            checks.append((budgets.team_budget(), lambda: Spend.of(month), "the team's"))
    over, share = None, 0.0
    for budget, spend_of, whose in checks:
        if budget is None:
            continue
        used = budget.share_used(spend_of())
        share = max(share, used)
        if used >= 1 and over is None:
            over = whose
    return Standing(over=over, share=share, resets=next_month(month))
