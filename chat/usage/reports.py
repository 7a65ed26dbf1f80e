"""Usage reports for one month: by person, by model and by day, from the replies themselves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from chat.lib import money
from chat.models import Message
from chat.models.budgets import month_start, next_month

TOTALS = {
    "replies": Count("id"),
    "prompt": Coalesce(Sum("prompt_tokens"), 0),
    "completion": Coalesce(Sum("completion_tokens"), 0),
    # What the upstream said of them where it did (prompt_tokens_details, completion_tokens_details).
    "cached": Coalesce(Sum("cached_tokens"), 0),
    "reasoning": Coalesce(Sum("reasoning_tokens"), 0),
    "cost": Sum("cost"),
    "estimated": Count("id", filter=Q(usage_estimated=True)),
}


# Months a page may show: the month before and after each must exist too (the page links them).
FIRST_MONTH, LAST_MONTH = dt.date(1970, 1, 1), dt.date(9000, 12, 1)


def parse_month(text: str | None, today: dt.date) -> dt.date:
    """A `YYYY-MM` from the query string, else this month."""
    try:
        month = dt.date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        month = None
    return month if month and FIRST_MONTH <= month <= LAST_MONTH else today.replace(day=1)


def replies_in(month: dt.date, user=None) -> QuerySet[Message]:
    start = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(next_month(month), dt.time(), tzinfo=dt.UTC)
    replies = Message.objects.filter(role=Message.Role.ASSISTANT, created__gte=start, created__lt=end)
    replies = replies.exclude(prompt_tokens__isnull=True)
    return replies.filter(conversation__owner=user) if user is not None else replies


@dataclass
class Row:
    label: str
    replies: int
    prompt: int
    completion: int
    cost: Decimal | None
    estimated: int
    cached: int = 0  # of the input, read from the upstream's prompt cache
    reasoning: int = 0  # of the output, spent thinking
    share: float = 0.0  # of the largest row, for the bars

    @property
    def tokens(self) -> int:
        return self.prompt + self.completion

    @property
    def cost_text(self) -> str:
        """The cost in the prices' currency, to four places (a reply costs fractions of a cent)."""
        return money.money(self.cost, 4)


def _rows(grouped, label) -> list[Row]:
    totals = ("replies", "prompt", "completion", "cost", "estimated", "cached", "reasoning")
    rows = [Row(str(label(g)), **{name: g[name] for name in totals}) for g in grouped]
    top = max((row.tokens for row in rows), default=0) or 1
    for row in rows:
        row.share = row.tokens / top
    return rows


def by_person(replies: QuerySet[Message]) -> list[Row]:
    grouped = replies.values(person=F("conversation__owner__username")).annotate(**TOTALS).order_by("person")
    return sorted(_rows(grouped, lambda g: g["person"]), key=lambda row: -row.tokens)


def by_model(replies: QuerySet[Message]) -> list[Row]:
    grouped = replies.values("model").annotate(**TOTALS).order_by("model")
    return sorted(_rows(grouped, lambda g: g["model"]), key=lambda row: -row.tokens)


def source_label(source: str, token_name: str) -> str:
    """Where replies came from, as the pages say it: the chat, or the API with the token's name."""
    if source != "api":
        return _("Chat")
    return _("API · %(token)s") % {"token": token_name} if token_name else _("API")


def by_source(replies: QuerySet[Message]) -> list[Row]:
    """The chat's replies, then the API's per token: what scripts spend apart from what people chat; nothing
    when no script spent anything."""
    grouped = (
        replies.values(source=F("conversation__source"), token=F("conversation__api_token_name"))
        .annotate(**TOTALS)
        .order_by("source", "token")
    )
    if not any(g["source"] == "api" for g in grouped):
        return []  # chat alone: the totals say it already, no table of one row
    rows = _rows(grouped, lambda g: source_label(g["source"], g["token"]))
    return sorted(rows, key=lambda row: (row.label != _("Chat"), -row.tokens))


def by_assistant(replies: QuerySet[Message]) -> list[Row]:
    """The replies of chats started from an assistant, per assistant, by the name the chat copied."""
    started = replies.exclude(conversation__assistant_name="")
    grouped = started.values(name=F("conversation__assistant_name")).annotate(**TOTALS).order_by("name")
    return sorted(_rows(grouped, lambda g: g["name"]), key=lambda row: -row.tokens)


def by_day(replies: QuerySet[Message], month: dt.date) -> list[Row]:
    """Every day of the month, with nothing where nothing was spent, so the chart reads as a calendar."""
    grouped = {
        g["day"]: g for g in replies.annotate(day=TruncDate("created")).values("day").annotate(**TOTALS)
    }
    empty = {
        "replies": 0,
        "prompt": 0,
        "completion": 0,
        "cost": None,
        "estimated": 0,
        "cached": 0,
        "reasoning": 0,
    }
    days = [month + dt.timedelta(days=n) for n in range((next_month(month) - month).days)]
    return _rows([{**empty, **grouped.get(day, {}), "day": day} for day in days], lambda g: g["day"].day)


def csv_rows(replies: QuerySet[Message]):
    """One line per day, person, model and source (chat, or api with the token's name): what a spreadsheet
    wants. New columns go at the end: scripts read the others by position."""
    yield [
        "date",
        "user",
        "model",
        "replies",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost",
        "estimated_replies",
        "cached_tokens",
        "reasoning_tokens",
        "source",
        "api_token",
    ]
    grouped = (
        replies.annotate(day=TruncDate("created"))
        .values(
            "day",
            person=F("conversation__owner__username"),
            model_name=F("model"),
            source=F("conversation__source"),
            token=F("conversation__api_token_name"),
        )
        .annotate(**TOTALS)
        .order_by("day", "person", "model_name", "source", "token")
    )
    for g in grouped:
        yield [
            g["day"].isoformat(),
            g["person"],
            g["model_name"],
            g["replies"],
            g["prompt"],
            g["completion"],
            g["prompt"] + g["completion"],
            g["cost"] if g["cost"] is not None else "",
            g["estimated"],
            g["cached"],
            g["reasoning"],
            g["source"],
            g["token"],
        ]


__all__ = [
    "by_day",
    "by_model",
    "by_person",
    "by_source",
    "csv_rows",
    "month_start",
    "parse_month",
    "replies_in",
]
