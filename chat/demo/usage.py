"""The fake upstream's `usage.prompt_tokens`, counted the way the real API counts a chat.

Deliberately not chat/upstream/tokens.py (the site's own estimate, which the tests check against
this count): the encoding here is tiktoken's own `o200k_base` constructor (its pattern and special
tokens), fed the ranks shipped in chat/lib/ranks/ and checked against the hash tiktoken expects,
so nothing is downloaded. Each message is framed as the API frames it: a start marker, the role, a
separator, the content and an end marker (three marker tokens), and the reply is primed with the
assistant's start, role and separator (three tokens).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from pathlib import Path
from typing import Any

import tiktoken
from tiktoken_ext import openai_public

from chat.demo.attachments import images_tokens
from chat.demo.directives import message_text

SHIPPED_RANKS = Path(__file__).resolve().parent.parent / "lib" / "ranks" / "o200k_base.tiktoken.gz"
MARKERS_PER_MESSAGE = 3  # start, separator, end
PRIMING = 3  # the reply's start, "assistant", separator

_lock = threading.Lock()
_o200k: tiktoken.Encoding | None = None


def _shipped_ranks(_url: str, expected_hash: str | None = None) -> dict[bytes, int]:
    data = gzip.decompress(SHIPPED_RANKS.read_bytes())
    if expected_hash is not None and hashlib.sha256(data).hexdigest() != expected_hash:
        raise ValueError(f"{SHIPPED_RANKS} is not the o200k_base tiktoken expects")
    return {
        base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines())
    }


def o200k() -> tiktoken.Encoding:
    """tiktoken's o200k_base from the shipped ranks: its constructor's loader is swapped for one call."""
    global _o200k
    with _lock:
        if _o200k is None:
            download = openai_public.load_tiktoken_bpe
            openai_public.load_tiktoken_bpe = _shipped_ranks
            try:
                _o200k = tiktoken.Encoding(**openai_public.o200k_base())
            finally:
                openai_public.load_tiktoken_bpe = download
    return _o200k


def prompt_tokens(messages: list[Any]) -> int:
    """What the real API reports as usage.prompt_tokens for these messages."""
    encoding = o200k()
    total = PRIMING
    for message in messages:
        if not isinstance(message, dict):
            continue
        parts = [str(message.get("role", "")), message_text(message.get("content"))]
        if isinstance(message.get("name"), str):
            parts.append(message["name"])
            total += 1  # the name's own marker
        total += MARKERS_PER_MESSAGE + sum(len(encoding.encode_ordinary(part)) for part in parts)
        total += images_tokens(message.get("content"))
    return total
