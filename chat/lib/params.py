"""Values from URLs and forms, checked before they reach the database: ids, and text without NUL."""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import get_converters

# PostgreSQL's bigint: an id past it names nothing, and asking for it is an error there (and on SQLite).
MAX_ID = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """A database id written in ASCII digits, or None: `²`, `٣`, signs, spaces and ids past 2^63 too."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def has_nul(text: str) -> bool:
    # PostgreSQL text cannot hold NUL: refused up front rather than failing in the database.
    return "\x00" in text


class IdConverter:
    """`<id:pk>`: like `<int:pk>`, but an id no row can have is no page at all (404)."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # the resolver's "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def register_id_converter() -> None:
    """Make `<id:…>` usable in URL patterns; the URL modules call it first, so once is enough."""
    if "id" not in get_converters():
        register_converter(IdConverter, "id")
