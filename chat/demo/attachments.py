"""The fake upstream's side of attachments: list content read as the real API reads it.

An `image_url` part goes only to a model that takes images (the table below agrees with the catalogue's
seeded `vision` flags, chat/migrations/0013_catalogue_picker.py); to any other the fake answers 400 as
the real API does. A reply to a message with attachments says what it got: the images' sizes (decoded
with Pillow from their data URLs) and the documents' names, pages and characters (from the text part
that names each file, chat/attachments/parts.py). Images count in `usage.prompt_tokens` as the real API
counts them at high detail.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from typing import Any

from PIL import Image

# Models of the fake's table that take no image (every other one does).
TEXT_ONLY = frozenset({"o3-mini", "gpt-5.3-codex-spark"})
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
DOCUMENT = re.compile(r'\AAttached file "(?P<name>[^"\n]*)"(?: \((?P<about>[^)\n]*)\))?:\n\n', re.DOTALL)
TIMES = "\u00d7"  # the multiplication sign of "2048×1536"  # noqa: RUF003
IMAGE_UNSUPPORTED = "Invalid content type. image_url is only supported by certain models."


def takes_images(model: str) -> bool:
    return _DATED.sub("", model) not in TEXT_ONLY


def _parts(content: Any) -> list[dict]:
    return [part for part in content if isinstance(part, dict)] if isinstance(content, list) else []


def accepts(model: str, messages: list) -> bool:
    """False where the real API answers 400: an image for a model that takes none."""
    if takes_images(model):
        return True
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if any(part.get("type") == "image_url" for part in _parts(content)):
            return False
    return True


def image_size(part: dict) -> tuple[int, int] | None:
    """The width and height of an `image_url` part's data URL; None when it holds no readable image."""
    url = part.get("image_url", {}).get("url") if isinstance(part.get("image_url"), dict) else None
    if not isinstance(url, str) or not url.startswith("data:"):
        return None
    try:
        raw = base64.b64decode(url.partition(",")[2], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            return image.size
    except (binascii.Error, ValueError, OSError, Image.DecompressionBombError):
        return None


def images_tokens(content: Any) -> int:
    """The prompt tokens of a content's images."""
    return sum(image_tokens(part) for part in _parts(content) if part.get("type") == "image_url")


def image_tokens(part: dict) -> int:
    """What the real API counts for an image at high detail: 85, and 170 a 512 px tile."""
    width, height = image_size(part) or (768, 768)
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    return 85 + 170 * math.ceil(width * scale / 512) * math.ceil(height * scale / 512)


def own_text(content: Any) -> str:
    """The member's words in a message: its text parts that are not an attached document."""
    if not isinstance(content, list):
        return content if isinstance(content, str) else ""
    texts = [part.get("text", "") for part in _parts(content) if part.get("type") == "text"]
    return "\n".join(text for text in texts if isinstance(text, str) and not DOCUMENT.match(text))


def described(content: Any) -> str | None:
    """'I see 2 images (2048 by 1536, 800 by 600) and 1 document: report.pdf (200 pages, 51,234 characters)',
    the sizes written with a multiplication sign."""
    parts = _parts(content)
    sizes = [image_size(part) for part in parts if part.get("type") == "image_url"]
    documents = []
    for part in parts:
        found = DOCUMENT.match(part.get("text", "")) if part.get("type") == "text" else None
        if found and isinstance(part.get("text"), str):
            characters = len(part["text"]) - found.end()
            about = found["about"].split(";")[0] + ", " if found["about"] else ""
            documents.append(f"{found['name']} ({about}{characters:,} characters)")
    if not sizes and not documents:
        return None
    said = []
    if sizes:
        shown = ", ".join(f"{size[0]}{TIMES}{size[1]}" if size else "unreadable" for size in sizes)
        said.append(f"{len(sizes)} image{'s' if len(sizes) != 1 else ''} ({shown})")
    if documents:
        said.append(f"{len(documents)} document{'s' if len(documents) != 1 else ''}: {', '.join(documents)}")
    return f"I see {' and '.join(said)}."
