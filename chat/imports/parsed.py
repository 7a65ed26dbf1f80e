"""A conversation read from an export, in our terms, before it is saved: what both formats turn into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


class Skip(Exception):
    """This conversation cannot be imported; the message is the report's reason."""


@dataclass
class Item:
    """One message; `parent` is the key of the message it follows (None for a first message)."""

    key: str
    parent: str | None
    role: str
    content: str
    created: datetime | None = None
    model: str = ""
    served_model: str = ""
    finish_reason: str = ""
    usage: dict | None = None


@dataclass
class Parsed:
    """A conversation: its messages parents first, the key of the leaf on show, and notes for the report."""

    source: str  # imported_from: "chatgpt:<id>" or "tokenoff:<id>"
    title: str
    created: datetime | None
    updated: datetime | None
    model: str
    items: list[Item]
    leaf: str | None
    parameters: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def epoch(value) -> datetime | None:
    """ChatGPT's times: seconds since 1970 as a number, or null."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def iso(value) -> datetime | None:
    """Our export's times: ISO 8601 with an offset."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def text(value, limit: int) -> str:
    """A string field, without NUL (PostgreSQL's text cannot hold it), cut at the limit; "" otherwise."""
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""
