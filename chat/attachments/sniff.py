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
CHUNK = 1024 * 1024


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


def _text_charset(file: IO[bytes]) -> str | None:
    """utf-8 or utf-16 when the whole file is valid text in it with no NUL; None otherwise."""
    file.seek(0)
    head = file.read(2)
    file.seek(0)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        charset, decoder = "utf-16", codecs.getincrementaldecoder("utf-16")()
    else:
        charset, decoder = "utf-8", codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := file.read(CHUNK):
            if "\x00" in decoder.decode(chunk):
                return None
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    finally:
        file.seek(0)
    return charset
