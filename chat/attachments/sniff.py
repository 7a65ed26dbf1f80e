"""What an uploaded file is, from its bytes: never from its name or the type the browser claims."""

from __future__ import annotations

import codecs
import struct
import zipfile
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _

from chat.attachments.refusals import Refused

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Brands of an ISO media file that hold HEVC pictures (HEIC); AVIF has no decoder here, so it is not one.
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
# An Office file is a ZIP: what it may unpack to, and how hard it may be squeezed, before it is read.
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 100  # deflate reaches ~1000:1 on filler; real XML stays well under 100:1
RATIO_FROM = 1024 * 1024  # small members may compress as they like
MAX_MEMBERS = 10_000  # a DOCX holds tens of parts, a workbook with many sheets and pictures hundreds
MAX_DIRECTORY = 2 * 1024 * 1024  # bytes of the central directory: some 20,000 members of long names
END_SEARCH = 22 + 65535  # the end record, and the longest comment that may follow it
CHUNK = 1024 * 1024
# A single-byte file holding any of these is binary, not text in a legacy charset: tab, line feed,
# form feed and carriage return are the only controls text has.
LEGACY_CONTROL = "".join(chr(code) for code in range(32) if chr(code) not in "\t\n\x0c\r") + "\x7f"


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "image" | "document"
    content_type: str  # what it is; for text, with the charset it was written in
    extension: str  # for the stored file's name: ours, never the member's
    pillow_format: str = ""  # the one format Pillow may read it as


IMAGES = {
    "JPEG": Sniffed("image", "image/jpeg", "jpg", "JPEG"),
    "PNG": Sniffed("image", "image/png", "png", "PNG"),
    "GIF": Sniffed("image", "image/gif", "gif", "GIF"),
    "WEBP": Sniffed("image", "image/webp", "webp", "WEBP"),
    "HEIF": Sniffed("image", "image/heic", "heic", "HEIF"),
}
PDF = Sniffed("document", "application/pdf", "pdf")
WORD = Sniffed("document", DOCX, "docx")
EXCEL = Sniffed("document", XLSX, "xlsx")


def unsupported() -> Refused:
    return Refused(
        415,
        "unsupported_type",
        _(
            "This kind of file cannot be attached. Attach an image (JPEG, PNG, WebP, GIF or HEIC) or a "
            "document (PDF, Word .docx, Excel .xlsx, CSV, Markdown, plain text or source code)."
        ),
    )


def sniff(file: IO[bytes]) -> Sniffed:
    """The file's kind and type from its first bytes (the whole of it for text); 415 when not taken."""
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    image = _image_format(head)
    if image:
        return IMAGES[image]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _office(file)
    charset = _text_charset(file)
    if charset:
        return Sniffed("document", f"text/plain; charset={charset}", "txt")
    raise unsupported()


def _image_format(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and len(head) >= 16:
        size = min(struct.unpack(">I", head[:4])[0], len(head))
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, size - 3, 4)}
        if brands & HEIC_BRANDS:
            return "HEIF"
    return None


def _office(file: IO[bytes]) -> Sniffed:
    """A DOCX or an XLSX by the part it must hold; any other ZIP is not taken. Bombs refused unread."""
    if _too_many_members(file):
        raise Refused(400, "document_too_large", _("This document holds too many parts to be read safely."))
    try:
        archive = zipfile.ZipFile(file)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise unsupported() from exc
    names = {member.filename for member in members}
    if "word/document.xml" in names:
        found = WORD
    elif "xl/workbook.xml" in names:
        found = EXCEL
    else:
        raise unsupported()
    # The sizes a ZIP declares bound what zipfile will inflate (it stops there), so they can be trusted.
    total = sum(member.file_size for member in members)
    squeezed = any(
        member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if total > MAX_UNZIPPED or squeezed:
        raise Refused(
            400,
            "document_too_large",
            _("This document unpacks to far more than its size: it cannot be read safely."),
        )
    file.seek(0)
    return found


def _too_many_members(file: IO[bytes]) -> bool:
    """From the ZIP's end record, before zipfile parses its directory (200,000 empty members take it
    6 s): more than MAX_MEMBERS, or a directory past MAX_DIRECTORY bytes (what zipfile walks)."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(max(0, size - END_SEARCH))
    tail = file.read()
    file.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return False  # no end record: zipfile refuses it as no ZIP
    members, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    return members > MAX_MEMBERS or directory > MAX_DIRECTORY


def _text_charset(file: IO[bytes]) -> str | None:
    """utf-8 or utf-16 when the whole file is valid text in it with no NUL; else windows-1252 (a CSV
    saved by Excel on Windows, Latin-1 text) when it holds no control character; None otherwise."""
    file.seek(0)
    head = file.read(2)
    file.seek(0)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16" if _decodes(file, "utf-16", "\x00") else None
    if _decodes(file, "utf-8", "\x00"):
        return "utf-8"
    return "windows-1252" if _decodes(file, "cp1252", LEGACY_CONTROL) else None


def _decodes(file: IO[bytes], charset: str, refused: str) -> bool:
    """Whether the whole file decodes in charset with none of the characters refused."""
    decoder = codecs.getincrementaldecoder(charset)()
    try:
        while chunk := file.read(CHUNK):
            text = decoder.decode(chunk)
            if any(ch in text for ch in refused):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True
