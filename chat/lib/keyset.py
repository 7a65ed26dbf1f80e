"""Keyset pages in activity order, newest first: the cursor a page link carries, and the seek from it.

The sidebar (chat/conversations/api.py) and review (chat/review/search.py) page this way: no OFFSET,
each page seeks the (updated, id) index from its cursor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from chat.lib.params import parse_id

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """A place in the activity order: (updated, id) of the row it follows."""

    updated: dt.datetime
    pk: int

    def __str__(self) -> str:
        return f"{(self.updated - EPOCH) // dt.timedelta(microseconds=1)}-{self.pk}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The cursor of a page link, or None for anything else (the first page)."""
        micros, _sep, pk = (text or "").partition("-")
        row = parse_id(pk)
        if row is None or not (micros.isascii() and micros.isdigit()):
            return None
        try:
            return cls(EPOCH + dt.timedelta(microseconds=int(micros)), row)
        except OverflowError:
            return None


def older_than(rows: QuerySet, cursor: Cursor) -> QuerySet:
    """The rows after the cursor in newest-first order."""
    # The bound on updated alone lets the index seek; the OR settles ties on the same instant.
    return rows.filter(updated__lte=cursor.updated).filter(
        Q(updated__lt=cursor.updated) | Q(updated=cursor.updated, pk__lt=cursor.pk)
    )


def newer_than(rows: QuerySet, cursor: Cursor) -> QuerySet:
    """The rows before the cursor in newest-first order."""
    return rows.filter(updated__gte=cursor.updated).filter(
        Q(updated__gt=cursor.updated) | Q(updated=cursor.updated, pk__gt=cursor.pk)
    )
