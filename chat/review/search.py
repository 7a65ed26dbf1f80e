"""Finding conversations to review: the filters, full-text search, and keyset pages by last activity."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import OperationalError, connections, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psycopg.errors import QueryCanceled

from chat.lib import keyset
from chat.lib.keyset import Cursor
from chat.models import ChatModel, Conversation, Message
from chat.models.feedback import Feedback
from chat.models.flags import Flag

# The text search configuration of the PostgreSQL indexes (migration 0006 builds them with it).
SEARCH_CONFIG = "english"
# Around the matched words of a snippet; control characters, so that no message text forges them.
MARK_START, MARK_END = "\x02", "\x03"
SNIPPET_CHARS = 200

OUTCOMES = [
    ("error", _("Errors")),
    ("stopped", _("Stopped")),
    ("interrupted", _("Interrupted")),
    ("length", _("Cut off (length)")),
    ("content_filter", _("Content filter")),
]
FEEDBACK = [("any", _("Any feedback")), ("down", _("Thumbs down")), ("up", _("Thumbs up"))]
FAILED = ["error", "interrupted"]


class TooSlow(Exception):
    """The list query ran past TOKENOFF_REVIEW_QUERY_SECONDS and was cancelled."""


@contextmanager
def time_limit(using: str = "default") -> Iterator[None]:
    """On PostgreSQL, run the queries inside serially and cancel them after a while (TooSlow)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    try:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                milliseconds = int(settings.TOKENOFF_REVIEW_QUERY_SECONDS * 1000)
                # No parallel workers either: a page is a short walk down the activity index, and
                # starting workers costs more than they save (55 ms against 13 ms at 100,000).
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true),"
                    " set_config('max_parallel_workers_per_gather', '0', true)",
                    [str(milliseconds)],
                )
            yield
    except OperationalError as error:
        if isinstance(error.__cause__, QueryCanceled):
            raise TooSlow from error
        raise


# The days a list may ask for: wide enough for any real range, narrow enough that each day's start
# and the next day exist in every time zone (9999-12-31 has no next day, 0001-01-01 no UTC start east
# of Greenwich).
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(9000, 12, 31)
DAYS = [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)]


class ReviewFilters(forms.Form):
    """The list's query string: every field optional, a bad value is a form error."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.order_by(get_user_model().USERNAME_FIELD),
        to_field_name=get_user_model().USERNAME_FIELD,
        required=False,
        empty_label="Everyone",
    )
    model = forms.CharField(required=False, max_length=100)
    since = forms.DateField(required=False, label=_("From"), validators=DAYS)
    until = forms.DateField(required=False, label=_("To"), validators=DAYS)
    outcome = forms.ChoiceField(required=False, choices=[("", _("Any outcome")), *OUTCOMES])
    feedback = forms.ChoiceField(required=False, choices=[("", _("Any or none")), *FEEDBACK])
    flagged = forms.BooleanField(required=False, label=_("Flagged only"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The date range ends before it starts."))
        return data

    def user_options(self) -> list[tuple[str, str]]:
        names = self.fields["user"].queryset.values_list(get_user_model().USERNAME_FIELD, flat=True)
        return [("", _("Everyone")), *((name, name) for name in names)]

    def model_options(self) -> list[tuple[str, str]]:
        """The catalogue's names, plus the asked-for one when the catalogue no longer has it."""
        names = list(ChatModel.objects.values_list("name", flat=True))
        current = (self.data.get("model") or "").strip()
        if current and current not in names:
            names.insert(0, current)
        return [("", _("Any model")), *((name, name) for name in names)]


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _is_postgres(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def _search_query(text: str) -> SearchQuery:
    # websearch syntax: "exact phrase", or, -excluded; never a syntax error whatever is typed.
    return SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")


def _has_cjk(text: str) -> bool:
    # Chinese and Japanese are written without spaces: the "english" text-search parser sees a
    # sentence as one word, so those searches match substrings instead.
    return any(
        "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uf900" <= ch <= "\ufaff" for ch in text
    )


def search(queryset: QuerySet, text: str, owner=None) -> QuerySet:
    """Conversations whose title or any message matches: PostgreSQL full text, else a plain LIKE.

    `owner` limits the messages looked at to that user's (the sidebar), so that one person's search
    never reads the whole site's messages.
    """
    if _is_postgres(queryset) and not _has_cjk(text):
        query = _search_query(text)
        titles = (
            Conversation.objects.annotate(found=SearchVector("title", config=SEARCH_CONFIG))
            .filter(found=query)
            .values("pk")
        )
        messages = (
            Message.objects.annotate(found=SearchVector("content", config=SEARCH_CONFIG))
            .filter(found=query)
            .values("conversation_id")
        )
    else:
        titles = Conversation.objects.filter(title__icontains=text).values("pk")
        messages = Message.objects.filter(content__icontains=text).values("conversation_id")
    if owner is not None:
        titles, messages = titles.filter(owner=owner), messages.filter(conversation__owner=owner)
    # Two hashed sub-plans: each runs once, then the walk in activity order only probes them.
    return queryset.filter(Q(pk__in=titles) | Q(pk__in=messages))


def matching(data: dict) -> QuerySet[Conversation]:
    """Every conversation the cleaned filters select, most recently active first."""
    conversations = Conversation.objects.all()
    if data.get("user"):
        conversations = conversations.filter(owner=data["user"])
    # Reply-level filters hold together: "thumbs down, gpt-4.1, yesterday" means one such reply.
    reply = Q()
    if data.get("model"):
        reply &= Q(model=data["model"])
    if data.get("outcome"):
        reply &= Q(finish_reason=data["outcome"])
    if data.get("feedback") == "any":
        reply &= Q(Exists(Feedback.objects.filter(message=OuterRef("pk"))))
    elif data.get("feedback") in ("down", "up"):
        rating = Feedback.Rating.DOWN if data["feedback"] == "down" else Feedback.Rating.UP
        reply &= Q(Exists(Feedback.objects.filter(message=OuterRef("pk"), rating=rating)))
    if reply:
        reply &= Q(role=Message.Role.ASSISTANT)
    if data.get("since"):
        start = _day_start(data["since"])
        reply &= Q(created__gte=start)
        conversations = conversations.filter(updated__gte=start)  # implied, and it uses the index
    if data.get("until"):
        end = _day_start(data["until"] + dt.timedelta(days=1))
        reply &= Q(created__lt=end)
        conversations = conversations.filter(created__lt=end)
    if reply:
        conversations = conversations.filter(
            Exists(Message.objects.filter(reply, conversation=OuterRef("pk")))
        )
    if data.get("flagged"):
        conversations = conversations.filter(Exists(Flag.objects.open().filter(conversation=OuterRef("pk"))))
    if data.get("q"):
        conversations = search(conversations, data["q"])
    return conversations.order_by("-updated", "-id")


@dataclass
class Page:
    conversations: list[Conversation]
    older: Cursor | None  # the next page, further back in time
    newer: Cursor | None  # the previous page


def page_of(
    queryset: QuerySet, *, after: Cursor | None = None, before: Cursor | None = None, size: int | None = None
) -> Page:
    """One page in activity order without OFFSET: each page seeks the index from its cursor."""
    size = size or settings.TOKENOFF_REVIEW_PAGE_SIZE
    rows = queryset.values_list("pk", "updated")
    if before:
        rows = list(keyset.newer_than(rows, before).order_by("updated", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        newer = Cursor(rows[0][1], rows[0][0]) if rows and more_newer else None
        older = Cursor(rows[-1][1], rows[-1][0]) if rows else None
    else:
        if after:
            rows = keyset.older_than(rows, after)
        rows = list(rows[: size + 1])
        older = Cursor(rows[size - 1][1], rows[size - 1][0]) if len(rows) > size else None
        rows = rows[:size]
        newer = Cursor(rows[0][1], rows[0][0]) if after and rows else None
    return Page(_with_details([pk for pk, _ in rows]), older, newer)


def _count(queryset: QuerySet, of: str = "conversation") -> Coalesce:
    counted = queryset.filter(**{of: OuterRef("pk")}).order_by().values(of)
    counted = counted.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _with_details(ids: list[int]) -> list[Conversation]:
    """The page's conversations with the counts a reviewer scans for, in the page's order."""
    rows = (
        Conversation.objects.filter(pk__in=ids)
        .select_related("owner")
        .annotate(
            message_count=_count(Message.objects.all()),
            failed_count=_count(Message.objects.filter(finish_reason__in=FAILED)),
            down_count=_count(Feedback.objects.filter(rating=Feedback.Rating.DOWN), "message__conversation"),
            up_count=_count(Feedback.objects.filter(rating=Feedback.Rating.UP), "message__conversation"),
            open_flag_count=_count(Flag.objects.open()),
        )
    )
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def snippets(ids: list[int], text: str) -> dict[int, list[tuple[str, bool]]]:
    """For each conversation, its first message matching the search, cut around the match.

    Returned as (text, is_match) pieces, so that the template escapes every piece itself.
    """
    if not ids or not text:
        return {}
    messages = Message.objects.filter(conversation_id__in=ids)
    if _is_postgres(messages) and not _has_cjk(text):
        query = _search_query(text)
        rows = (
            messages.annotate(found=SearchVector("content", config=SEARCH_CONFIG))
            .filter(found=query)
            .order_by("conversation_id", "id")
            .distinct("conversation_id")
            .annotate(
                snippet=SearchHeadline(
                    "content",
                    query,
                    config=SEARCH_CONFIG,
                    start_sel=MARK_START,
                    stop_sel=MARK_END,
                    max_words=30,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                )
            )
            .values_list("conversation_id", "snippet")
        )
        return {pk: _pieces(snippet) for pk, snippet in rows}
    found: dict[int, list[tuple[str, bool]]] = {}
    rows = messages.filter(content__icontains=text).order_by("conversation_id", "id")
    for pk, content in rows.values_list("conversation_id", "content"):
        if pk not in found:
            found[pk] = _pieces(_cut_around(content, text))
    return found


def _cut_around(content: str, text: str) -> str:
    """Plain-text snippet: the first match marked, with some context on each side."""
    clean = content.replace(MARK_START, "").replace(MARK_END, "")
    at = clean.lower().find(text.lower())
    if at < 0:
        return clean[:SNIPPET_CHARS]
    start = max(0, at - SNIPPET_CHARS // 2)
    end = min(len(clean), at + len(text) + SNIPPET_CHARS // 2)
    return (
        ("…" if start else "")
        + clean[start:at]
        + MARK_START
        + clean[at : at + len(text)]
        + MARK_END
        + clean[at + len(text) : end]
        + ("…" if end < len(clean) else "")
    )


def _pieces(snippet: str) -> list[tuple[str, bool]]:
    pieces: list[tuple[str, bool]] = []

    def add(text: str, is_match: bool) -> None:
        text = re.sub(r"\s+", " ", text.replace(MARK_START, "").replace(MARK_END, ""))
        if text:
            pieces.append((text, is_match))

    before, *marked_parts = snippet.split(MARK_START)
    add(before, False)
    for part in marked_parts:
        marked, _sep, after = part.partition(MARK_END)
        add(marked, True)
        add(after, False)
    return pieces
