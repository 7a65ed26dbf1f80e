"""A document's text, extracted on the server: what a model reads of a PDF, a DOCX, an XLSX or a text file.

The text carries markers a send splits on to offer pages or sheets (the regex MARKER, a contract with
chat/attachments/parts.py): a PDF's page N starts with the line `--- Page N ---`, a workbook's sheet
with `--- Sheet: NAME ---`. A line of the document itself that looks like a marker is indented by a
space, so only ours match.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _

from chat.attachments.refusals import Refused
from chat.attachments.sniff import DOCX, XLSX, Sniffed
from chat.upstream.tokens import text_tokens

MARKER = re.compile(r"^--- (Page \d+|Sheet: .+) ---$", re.MULTILINE)
MAX_PAGES = 2000  # a PDF past this is a book or a trap: refused before any page is read
MAX_SECONDS = 60.0  # extraction of one document, checked between pages and rows
MAX_CHARS = 4_000_000  # about a million tokens: more than any model's window
MAX_ROWS = 10_000  # per sheet
MAX_COLUMNS = 200  # per row
MAX_CELLS = 100_000  # per workbook (openpyxl reads some 30,000 a second): about 300,000 tokens
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Text:
    text: str
    pages: int | None
    tokens: int


class TooSlow(Exception):
    pass


def unreadable(detail: str = "") -> Refused:
    message = _("This document is damaged or not what it claims to be: its text cannot be read.")
    return Refused(400, "unreadable", f"{message} {detail}".strip())


def extract(file: IO[bytes], sniffed: Sniffed) -> Text:
    """The document's text with its markers, its page or sheet count, and its tokens."""
    file.seek(0)
    deadline = time.monotonic() + MAX_SECONDS
    try:
        if sniffed.content_type == "application/pdf":
            text, pages = _pdf(file, deadline)
        elif sniffed.content_type == DOCX:
            text, pages = _docx(file), None
        elif sniffed.content_type == XLSX:
            text, pages = _xlsx(file, deadline)
        else:
            text, pages = _plain(file, sniffed.content_type), None
    except TooSlow as exc:
        raise Refused(
            400, "too_slow", _("This document takes too long to read. Split it, or attach the pages needed.")
        ) from exc
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + "\n\n" + _("[The rest of the document is left out: it is too long.]")
    return Text(text=text, pages=pages, tokens=text_tokens(text))


def _escaped(text: str) -> str:
    """The document's own lines that look like our markers, indented so that they no longer match."""
    return MARKER.sub(lambda match: " " + match.group(0), CONTROL.sub("", text))


def _pdf(file: IO[bytes], deadline: float) -> tuple[str, int]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(file)
        if reader.is_encrypted and not reader.decrypt(""):  # "" opens those locked for editing only
            raise _locked()
        count = len(reader.pages)
    except FileNotDecryptedError as exc:
        raise _locked() from exc
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise unreadable() from exc
    if count > MAX_PAGES:
        raise Refused(
            400,
            "too_many_pages",
            _("This PDF has %(count)s pages; %(limit)s at most are read.")
            % {"count": count, "limit": MAX_PAGES},
        )
    parts, chars, found = [], 0, False
    for number, page in enumerate(reader.pages, start=1):
        if time.monotonic() > deadline:
            raise TooSlow
        try:
            text = (page.extract_text() or "").strip()
        except Exception:  # pypdf raises many kinds on a broken page: that page reads as blank
            text = ""
        found = found or bool(text)
        parts.append(f"--- Page {number} ---\n{_escaped(text)}")
        chars += len(parts[-1])
        if chars > MAX_CHARS:
            break
    if not found:
        raise Refused(
            400,
            "no_text_layer",
            _(
                "This PDF has no text to read: it looks like a scan. Attach the pages as images for a "
                "model that takes images, or run text recognition (OCR) on it first."
            ),
        )
    return "\n\n".join(parts), count


def _locked() -> Refused:
    return Refused(
        400,
        "encrypted",
        _("This PDF is protected by a password. Save a copy without the password and attach that."),
    )


def _docx(file: IO[bytes]) -> str:
    """Paragraphs and tables in the order the document has them; a table's cells tab-separated."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(file)
        lines = []
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Table):
                lines.extend(
                    "\t".join(cell.text.replace("\n", " ") for cell in row.cells) for row in block.rows
                )
    except Exception as exc:
        raise unreadable() from exc
    return _escaped("\n".join(lines).strip())


def _xlsx(file: IO[bytes], deadline: float) -> tuple[str, int]:
    """Sheet by sheet, each row a tab-separated line; long sheets, wide rows and big books cut, said so."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:
        raise unreadable() from exc
    budget = [MAX_CELLS]  # cells left for the sheets still to read
    try:
        sections = [_sheet(sheet, deadline, budget) for sheet in workbook.worksheets]
    except TooSlow:
        raise
    except Exception as exc:
        raise unreadable() from exc
    finally:
        workbook.close()
    return "\n\n".join(sections), len(sections)


def _sheet(sheet, deadline: float, budget: list[int]) -> str:
    name = CONTROL.sub(" ", str(sheet.title)).replace("\n", " ").replace("\r", " ").strip() or "?"
    lines = [f"--- Sheet: {name} ---"]
    # Rows come padded to the sheet's declared width: a declared 16,384 columns are read as 201 (one
    # past the limit, to know there are more).
    wide = (sheet.max_column or 0) > MAX_COLUMNS
    for index, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1 if wide else None)):
        if index % 500 == 0 and time.monotonic() > deadline:
            raise TooSlow
        if index >= MAX_ROWS:
            lines.append(_("[Only the first %(rows)s rows of this sheet are included.]") % {"rows": MAX_ROWS})
            break
        if budget[0] <= 0:
            lines.append(
                _(
                    "[Only the first %(rows)s rows of this sheet are included: "
                    "a workbook gives %(cells)s cells at most.]"
                )
                % {"rows": index, "cells": f"{MAX_CELLS:,}"}
            )
            break
        cells = [_cell(value) for value in row[:MAX_COLUMNS]]
        while cells and not cells[-1]:
            cells.pop()
        budget[0] -= max(len(cells), 1)
        if cells:
            more = _(" [and more columns]") if any(v is not None for v in row[MAX_COLUMNS:]) else ""
            lines.append(_escaped("\t".join(cells)) + more)
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).replace("\t", " ").replace("\r\n", " ").replace("\n", " ")


def _plain(file: IO[bytes], content_type: str) -> str:
    """CSV, Markdown, code, HTML, SVG: the text as it is (decoded; a byte-order mark dropped)."""
    charset = content_type.rpartition("charset=")[2]
    charset = charset if charset in ("utf-16", "windows-1252") else "utf-8-sig"
    decoder = codecs.getincrementaldecoder(charset)(errors="replace")
    return _escaped("".join(_chunks(file, decoder)))


def _chunks(file: IO[bytes], decoder) -> Iterator[str]:
    while chunk := file.read(1024 * 1024):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)
