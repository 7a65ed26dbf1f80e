"""An uploaded file as a stream of conversations: a ChatGPT export ZIP, its conversations.json (or the
newer split conversations-000.json …), or our own export.json. Read with ijson, one conversation at a time,
so that a file of 50,000 conversations never sits whole in memory; archives are checked before reading."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import ijson
from django.conf import settings
from django.utils.translation import gettext as _

# What one archive may unpack to, and how much more than its compressed size a member may grow: real
# exports compress 5-20 times; a ZIP bomb, thousands.
MAX_UNPACKED = getattr(settings, "TOKENOFF_IMPORT_MAX_UNPACKED_BYTES", 4 * 1024**3)
MAX_RATIO = 100
CONVERSATION_FILE = re.compile(r"(^|/)conversations(-\d+)?\.json$")
SNIFF_BYTES = 8  # a ZIP starts with PK\x03\x04 (or PK\x05\x06 when empty)


class Refused(Exception):
    """The file as a whole cannot be imported: the message says why, in the member's words."""


@dataclass
class Stream:
    """The conversations of a file, in order, and how far through its bytes the reading is (0-100)."""

    kind: str
    conversations: Iterator[dict]
    progress: Callable[[], int]


def _is_zip(file: IO[bytes]) -> bool:
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    return head.startswith(b"PK")


def _json_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's conversation files in order, after checking that unpacking them stays bounded."""
    members = sorted(
        (info for info in archive.infolist() if CONVERSATION_FILE.search(info.filename)),
        key=lambda info: info.filename,
    )
    if not members:
        raise Refused(_("This ZIP holds no conversations.json: is it a ChatGPT export?"))
    if sum(info.file_size for info in members) > MAX_UNPACKED:
        raise Refused(_("This archive unpacks to more than an import may hold."))
    for info in members:
        if info.file_size > max(info.compress_size, 1) * MAX_RATIO:
            raise Refused(_("This archive looks like a ZIP bomb: it unpacks to far more than its size."))
    return members


def _items(file: IO[bytes], prefix: str) -> Iterator[dict]:
    try:
        yield from ijson.items(file, prefix, use_float=True)
    except ijson.JSONError as error:
        raise Refused(_("The file is not valid JSON (%(error)s).") % {"error": str(error)[:120]}) from error


def _top_level(file: IO[bytes]) -> str:
    """Whether the JSON is a list of conversations ("item") or a single one ("")."""
    file.seek(0)
    try:
        for _prefix, event, _value in ijson.parse(file):
            file.seek(0)
            if event == "start_array":
                return "item"
            if event == "start_map":
                return ""
            break
    except ijson.JSONError:
        pass
    raise Refused(_("This file is neither a ZIP nor a JSON export of conversations."))


def _kind_of(file: IO[bytes], prefix: str) -> str:
    """ChatGPT's conversations carry a message tree ("mapping"); ours a list of "messages"."""
    file.seek(0)
    depth_key = f"{prefix}.mapping" if prefix else "mapping"
    ours = f"{prefix}.messages" if prefix else "messages"
    try:
        for path, _event, _value in ijson.parse(file):
            if path == depth_key:
                return "chatgpt"
            if path == ours:
                return "tokenoff"
    except ijson.JSONError as error:
        raise Refused(_("The file is not valid JSON (%(error)s).") % {"error": str(error)[:120]}) from error
    finally:
        file.seek(0)
    raise Refused(_("This JSON holds no conversations in a format this site reads."))


def _json_stream(file: IO[bytes], size: int) -> Stream:
    prefix = _top_level(file)
    kind = _kind_of(file, prefix)
    return Stream(kind, _items(file, prefix), lambda: min(99, file.tell() * 100 // max(size, 1)))


@contextmanager
def opened(file: IO[bytes], size: int) -> Iterator[Stream]:
    """The conversations of an uploaded file (a seekable binary file of `size` bytes)."""
    if not _is_zip(file):
        yield _json_stream(file, size)
        return
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as error:
        raise Refused(_("This file is not a readable ZIP archive.")) from error
    with archive:
        members = _json_members(archive)
        total = sum(info.file_size for info in members) or 1
        state = {"done": 0, "current": None}

        def progress() -> int:
            current = state["current"]
            position = current.tell() if current is not None else 0
            return min(99, (state["done"] + position) * 100 // total)

        def conversations() -> Iterator[dict]:
            for info in members:
                try:
                    with archive.open(info) as member:
                        state["current"] = member
                        # Each split file is a list of conversations, as conversations.json is.
                        yield from _items(member, "item")
                except (zipfile.BadZipFile, EOFError, OSError) as error:
                    raise Refused(
                        _("The archive is damaged: %(name)s cannot be read.") % {"name": info.filename}
                    ) from error
                state["done"] += info.file_size
                state["current"] = None

        yield Stream("chatgpt", conversations(), progress)
