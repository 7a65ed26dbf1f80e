"""The fake upstream's language: `[fake:...]` directives in a message or an X-Fake header, and the
replies it writes (a canned Markdown answer, a title); the real API's parameter refusals are in
parameters.py."""

from __future__ import annotations

import re
from typing import Any

SERVED_MODEL_SUFFIX = "-2025-04-14"

_DIRECTIVE_RE = re.compile(r"\[fake:([a-z_]+)(?:=([^\]\s]*))?\]")
_DATED_RE = re.compile(r"-\d{4}-\d{2}-\d{2}$")
# Newlines stand alone; leading horizontal whitespace sticks to the next word or punctuation mark.
_TOKEN_RE = re.compile(r"\n|[^\S\n]*(?:\w+|[^\w\s])|[^\S\n]+")

_INT_KEYS = frozenset({"status", "cut", "chunks", "window", "cached", "reasoning"})
_FLAG_KEYS = frozenset({"garbage", "error_chunk", "no_usage", "echo", "stamp", "clock"})
_KNOWN_KEYS = _INT_KEYS | _FLAG_KEYS | {"delay", "finish"}

_REPLY_BODY = """This reply comes from the **offline fake upstream**, so no network access or real API key \
is needed. It streams word by word, just like the real service.

- Markdown is rendered safely
- Code blocks get *syntax highlighting*
- Long replies arrive in small pieces

```python
def greet(name: str) -> str:
    \"\"\"Return a friendly greeting.\"\"\"
    return f"Hello, {name}!"


print(greet("world"))
```

Anything else I can help with?"""


class BadDirective(ValueError):
    """A `[fake:...]` directive that cannot be parsed; answered with HTTP 400 so typos surface."""


def tokenize(text: str) -> list[str]:
    """Split text into word-sized pieces whose concatenation is exactly `text`."""
    return _TOKEN_RE.findall(text)


_ECHO_INTRO = """Hello! Thanks for your message. This is the **offline demo**: no key, no network. It \
answers with what you wrote, rendered, so try Markdown, code blocks and tables. You wrote:"""


def canned_reply(user_text: str) -> str:
    """The friendly Markdown reply for a user message (directives already removed): a short introduction,
    then the message itself, unquoted, so that its Markdown, code and tables come back rendered."""
    user_text = user_text.strip()
    if not user_text:
        return "Hello! Thanks for your message.\n\n" + _REPLY_BODY
    return f"{_ECHO_INTRO}\n\n---\n\n{user_text}"


def asks_for_a_title(messages: list) -> bool:
    """A conversation-naming request: a system message that asks for a title."""
    first = messages[0] if messages else None
    return (
        isinstance(first, dict)
        and first.get("role") == "system"
        and "title" in message_text(first.get("content"))
    )


def title_for(user_text: str) -> str:
    """What a small model would answer: the question's first few words, capitalised."""
    title = " ".join(user_text.split()[:6]).strip(" ?!.,:;")
    return title[:1].upper() + title[1:] if title else "New conversation"


def served_model(requested: str) -> str:
    """The dated name reported back, so callers can see it differs from the one asked for."""
    return requested if _DATED_RE.search(requested) else requested + SERVED_MODEL_SUFFIX


def strip_directives(text: str) -> str:
    """The message text with every `[fake:...]` directive removed and outer whitespace trimmed."""
    return _DIRECTIVE_RE.sub("", text).strip()


def message_text(content: Any) -> str:
    """Plain text of a message `content`, which may be a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _convert(key: str, value: str | None) -> Any:
    """Validate and convert one directive value."""
    if key not in _KNOWN_KEYS:
        raise BadDirective(f"unknown fake directive {key!r}")
    if key in _FLAG_KEYS:
        return True
    if value is None or value == "":
        raise BadDirective(f"fake directive {key!r} needs a value")
    try:
        if key in _INT_KEYS:
            number = int(value)
            if number < 0:
                raise ValueError
            return number
        if key == "delay":
            seconds = float(value)
            if not 0 <= seconds < 3600:
                raise ValueError
            return seconds
    except ValueError:
        raise BadDirective(f"bad value {value!r} for fake directive {key!r}") from None
    return value  # finish: any finish_reason string


def parse_directives(text: str) -> dict[str, Any]:
    """Directives embedded in message text as `[fake:key]` or `[fake:key=value]`."""
    return {m.group(1): _convert(m.group(1), m.group(2)) for m in _DIRECTIVE_RE.finditer(text)}


def parse_header_directives(header: str | None) -> dict[str, Any]:
    """Directives from an `X-Fake: status=500; cut=3` header."""
    out: dict[str, Any] = {}
    for item in (header or "").split(";"):
        key, sep, value = item.strip().partition("=")
        if key:
            out[key.strip()] = _convert(key.strip(), value.strip() if sep else None)
    return out
