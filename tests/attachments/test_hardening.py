"""Attacks and odd inputs found in review (issue 15): each refused cleanly or taken as it should be."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib

import pytest
from django.db import transaction
from django.utils import timezone

from chat.attachments import cleanup, images, sniff, uploads
from chat.models import Attachment
from chat.realtime import attaching
from chat.realtime.frames import AttachmentChoice, Code, Refused
from tests.attachments import fixtures
from tests.attachments.conftest import stored_files, upload, uploaded
from tests.review import data as review_data

pytestmark = pytest.mark.django_db


def test_a_windows_csv_is_read_and_served_in_its_own_charset(member):
    content = "name;city;price\r\nJosé;Zürich;€5\r\n".encode("cp1252")
    attachment = uploaded(member, ("prices.csv", content))
    assert attachment.content_type == "text/plain; charset=windows-1252"
    assert attachment.text.read().decode("utf-8") == "name;city;price\r\nJosé;Zürich;€5\r\n"
    response = member.get(f"/api/attachments/{attachment.pk}/")
    assert response["Content-Type"] == "text/plain; charset=windows-1252"
    assert b"".join(response.streaming_content) == content


@pytest.mark.postgres  # row locks: FOR UPDATE on PostgreSQL, nothing on SQLite
def test_a_send_binding_an_upload_the_sweep_took_meanwhile_is_not_found(member, alice):
    """A day-old upload resolved by a send, then swept before the send saves: not_found, nothing bound."""
    attachment = uploaded(member, fixtures.csv_table)
    Attachment.objects.filter(pk=attachment.pk).update(created=timezone.now() - dt.timedelta(days=2))
    conversation = review_data.conversation(alice, "Late send")
    carried = attaching.resolve(alice, None, [AttachmentChoice(attachment.pk)])
    assert cleanup.sweep_orphans(timezone.now(), owner=alice) == 1
    with pytest.raises(Refused) as refused, transaction.atomic():
        attaching.bind(conversation.messages.first(), conversation, carried)
    assert refused.value.code == Code.NOT_FOUND
    assert not conversation.messages.first().attachment_links.exists()


def _png(width: int, height: int) -> bytes:
    """A blank RGBA PNG: a few hundred kB that decode to width x height x 4 bytes."""
    rows = zlib.compressobj(9)
    blank = b"\x00" * (1 + 4 * width)
    data = b"".join(rows.compress(blank) for _row in range(height)) + rows.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in ((b"IHDR", header), (b"IDAT", data), (b"IEND", b""))
    )


@pytest.mark.parametrize(("size", "slots_left"), [((1200, 900), 0), ((800, 600), 1)])
def test_an_image_decoded_whole_past_the_heavy_size_is_processed_alone(member, monkeypatch, size, slots_left):
    """A PNG past HEAVY_PIXELS (24 MP: ~100 MB a copy in RGBA, 1 MP here) holds both slots; others one."""
    monkeypatch.setattr(images, "HEAVY_PIXELS", 1_000_000)
    seen = []
    process = images.process

    def watched(file, sniffed):
        seen.append(uploads._processing._value)
        return process(file, sniffed)

    monkeypatch.setattr(images, "process", watched)
    attachment = uploaded(member, ("big.png", _png(*size)))
    assert seen == [slots_left] and uploads._processing._value == uploads.SLOTS
    assert (attachment.width, attachment.height) == size


def _with_members(count: int) -> bytes:
    """The DOCX fixture with `count` empty members more: tiny, and slow for zipfile to list."""
    _name, content = fixtures.docx_report()
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member in source.infolist():
            archive.writestr(member, source.read(member))
        for number in range(count):
            archive.writestr(f"customXml/{number}.xml", b"")
    return out.getvalue()


def test_an_office_file_of_too_many_members_is_refused_from_its_end_record(member, media, monkeypatch):
    """10,000 members at most (200,000 empty ones take zipfile 6 s to list); 50 here, to be quick."""
    monkeypatch.setattr(sniff, "MAX_MEMBERS", 50)
    response = upload(member, ("parts.docx", _with_members(50)))
    assert response.status_code == 400 and response.json()["error"]["code"] == "document_too_large"
    assert stored_files(media) == []
    assert upload(member, ("parts.docx", _with_members(10))).status_code == 201


def test_a_word_document_naming_a_local_file_as_an_entity_never_reads_it(member, tmp_path):
    """XXE: python-docx's parser resolves no entity, so the secret stays out of the text."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        "<w:p><w:r><w:t>before &x; after</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    _name, content = fixtures.docx_report()
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for part in source.infolist():
            archive.writestr(part, body if part.filename == "word/document.xml" else source.read(part))
    response = upload(member, ("entity.docx", out.getvalue()))
    if response.status_code == 201:
        text = Attachment.objects.get(pk=response.json()["id"]).text.read().decode()
        assert "TOP-SECRET" not in text and "before" in text
    else:
        assert response.json()["error"]["code"] == "unreadable"
