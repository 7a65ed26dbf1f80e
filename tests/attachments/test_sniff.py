"""The type by content (chat/attachments/sniff.py), never by the name or the claimed type."""

from __future__ import annotations

import io

import pytest

from chat.attachments.refusals import Refused
from chat.attachments.sniff import sniff
from tests.attachments import fixtures


def sniffed(content: bytes):
    return sniff(io.BytesIO(content))


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        ("jpeg_12mp", "image/jpeg"),
        ("heic_photo", "image/heic"),
        ("png_screenshot", "image/png"),
        ("webp_image", "image/webp"),
        ("gif_animated", "image/gif"),
        ("pdf_named_jpg", "application/pdf"),
        ("docx_report", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx_two_sheets", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("svg_with_script", "text/plain; charset=utf-8"),
        ("utf16_text", "text/plain; charset=utf-16"),
    ],
)
def test_the_type_comes_from_the_bytes(key, content_type):
    assert sniffed(fixtures.ALL[key]()[1]).content_type == content_type


@pytest.mark.parametrize(
    "content",
    [
        fixtures.binary_named_txt()[1],
        fixtures.plain_zip()[1],
        b"text with a NUL\x00 inside",
        b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\x00",  # UTF-16 holding a NUL
        b"caf\xe9 \x01\x02 binary that is not UTF-8",  # a legacy charset's text holds no controls
        b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00avifmif1",  # AVIF: no decoder here
        b"MZ\x90\x00\x03",
    ],
)
def test_anything_else_is_unsupported(content):
    with pytest.raises(Refused) as refused:
        sniffed(content)
    assert (refused.value.status, refused.value.code) == (415, "unsupported_type")
    assert "JPEG" in refused.value.message and "PDF" in refused.value.message


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated():
    with pytest.raises(Refused) as refused:
        sniffed(fixtures.zip_bomb_docx()[1])
    assert (refused.value.status, refused.value.code) == (400, "document_too_large")


def test_a_latin_1_csv_is_text_in_windows_1252():
    """Excel on Windows saves CSV in its ANSI code page: text, not an unsupported type."""
    assert sniffed("name;city\nJosé;Zürich;€5\r\n".encode("cp1252")).content_type == (
        "text/plain; charset=windows-1252"
    )
