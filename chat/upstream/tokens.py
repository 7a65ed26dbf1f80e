"""What the upstream will count: the prompt tokens of a request, before it is sent.

tiktoken's `o200k_base` is the encoding of the GPT-4o, GPT-4.1, GPT-4.5, GPT-5 and o-series models
(every model of the seeded catalogue): for them the count is exact, up to how the upstream frames a
chat. Any other model (an upstream's own, a model `sync_models` added) is counted with the same
encoding as an estimate, flagged `exact: False`: other encodings differ by a few per cent on
English, more on other scripts and code.

tiktoken downloads an encoding's ranks on first use, from a host many servers cannot reach: the
ranks ship in chat/lib/ranks/ (see its README) and the encoding is built from them, once per
process, on first use. Nothing here touches the network.

A chat is counted by OpenAI's cookbook rule ("How to count tokens with tiktoken"): each message is
its role's and its content's tokens plus 3 for the markers around them (1 more for a `name`), and
the reply is primed with 3 more.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import tiktoken
from PIL import Image

ENCODING = "o200k_base"
RANKS = Path(__file__).resolve().parent.parent / "lib" / "ranks" / "o200k_base.tiktoken.gz"
# From tiktoken_ext/openai_public.py (tiktoken 0.14.0), which would otherwise download the ranks.
PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
SPECIAL_TOKENS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3

# OpenAI's count for an image at high detail: fitted in a 2048 px square, then its short side down to
# 768 px, in tiles of 512 px: a base and a price per tile. An image whose size cannot be read counts as
# a square one does (768 px: four tiles).
IMAGE_BASE_TOKENS = 85
IMAGE_TILE_TOKENS = 170
IMAGE_TILE = 512
IMAGE_UNREAD_TOKENS = IMAGE_BASE_TOKENS + 4 * IMAGE_TILE_TOKENS
# Enough of a data URL's base64 to read an image's header (a re-encoded image carries no metadata).
IMAGE_HEADER_CHARS = 64 * 1024

# The families whose encoding is o200k_base: counted exactly. Anything else is an estimate.
O200K_MODELS = re.compile(r"^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d)")

_lock = threading.Lock()
_encoding: tiktoken.Encoding | None = None


def read_ranks(path: Path = RANKS) -> dict[bytes, int]:
    """The shipped ranks: one `base64-token rank` pair a line, tiktoken's own file format."""
    ranks: dict[bytes, int] = {}
    with gzip.open(path, "rb") as lines:
        for line in lines:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    return ranks


def encoding() -> tiktoken.Encoding:
    """o200k_base, built from the shipped ranks the first time it is asked for."""
    global _encoding
    if _encoding is None:
        with _lock:
            if _encoding is None:
                _encoding = tiktoken.Encoding(
                    name=ENCODING,
                    pat_str=PATTERN,
                    mergeable_ranks=read_ranks(),
                    special_tokens=SPECIAL_TOKENS,
                )
    return _encoding


def is_exact(model_name: str) -> bool:
    """Whether the model's own encoding is the one counted with."""
    return bool(O200K_MODELS.match(model_name))


def text_tokens(text: str) -> int:
    """Tokens of a text as a message holds it (special tokens' spellings are plain text there)."""
    return len(encoding().encode_ordinary(text))


def image_tokens(width: int | None, height: int | None) -> int:
    """What an image of this size adds to a request, as OpenAI counts it at high detail."""
    if not width or not height:
        return IMAGE_UNREAD_TOKENS
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    tiles = math.ceil(width * scale / IMAGE_TILE) * math.ceil(height * scale / IMAGE_TILE)
    return IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tiles


def data_url_size(url: str) -> tuple[int, int] | None:
    """An image data URL's width and height, read from its header only; None when it is not one."""
    head, _, data = url.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        return None
    for chars in (IMAGE_HEADER_CHARS, len(data)):  # the header first; the whole image if that was short
        try:
            raw = base64.b64decode(data[: chars - chars % 4])
            with Image.open(io.BytesIO(raw)) as image:
                return image.size
        except (binascii.Error, ValueError, OSError, Image.DecompressionBombError):
            if chars >= len(data):
                return None
    return None


def image_part_tokens(part: dict) -> int:
    """An `image_url` content part's tokens, from the size of the image it carries."""
    url = (part.get("image_url") or {}).get("url") if isinstance(part.get("image_url"), dict) else None
    size = data_url_size(url) if isinstance(url, str) else None
    return image_tokens(*size) if size else IMAGE_UNREAD_TOKENS


def content_tokens(content) -> int:
    """A message content's tokens: a text, or a list of text and image parts."""
    if isinstance(content, str):
        return text_tokens(content)
    total = 0
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            total += text_tokens(part["text"])
        elif part.get("type") == "image_url":
            total += image_part_tokens(part)
    return total


@dataclass(frozen=True)
class Count:
    tokens: int
    exact: bool
    encoding: str = ENCODING


def count_messages(messages: list[dict], model_name: str) -> Count:
    """The prompt tokens of a Chat Completions request with these messages, as the upstream counts."""
    tokens = REPLY_PRIMING
    for message in messages:
        tokens += TOKENS_PER_MESSAGE
        for field, value in message.items():
            if isinstance(value, str) or (field == "content" and isinstance(value, list)):
                tokens += content_tokens(value)
            if field == "name":
                tokens += TOKENS_PER_NAME
    return Count(tokens=tokens, exact=is_exact(model_name))
