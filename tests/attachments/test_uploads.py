"""POST /api/attachments/ (chat/attachments/uploads.py): every fixture through the real view, the limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from chat.attachments.uploads import display_name
from chat.models import Attachment
from tests.attachments import fixtures
from tests.attachments.conftest import sign_in, stored_files, upload, uploaded

pytestmark = pytest.mark.django_db

EXPECTED = {  # fixture: (kind, pages, content type stored)
    "jpeg_12mp": ("image", None, "image/jpeg"),
    "heic_photo": ("image", None, "image/jpeg"),
    "png_screenshot": ("image", None, "image/png"),
    "pdf_200_pages": ("document", 200, "application/pdf"),
    "docx_report": (
        "document",
        None,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx_two_sheets": ("document", 2, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv_table": ("document", None, "text/plain; charset=utf-8"),
    "html_page": ("document", None, "text/plain; charset=utf-8"),
    "svg_with_script": ("document", None, "text/plain; charset=utf-8"),
    "pdf_named_jpg": ("document", 2, "application/pdf"),
}
REFUSED = {
    **fixtures.REFUSED,
    "pdf_encrypted": (400, "encrypted"),
    "zip_bomb_docx": (400, "document_too_large"),
    "plain_zip": (415, "unsupported_type"),
}


@pytest.mark.parametrize("key", sorted(fixtures.ACCEPTED))
def test_every_accepted_fixture_answers_201_with_its_kind_pages_and_tokens(member, media, key):
    response = upload(member, fixtures.ALL[key])
    assert response.status_code == 201, response.content
    body = response.json()
    kind, pages, content_type = EXPECTED[key]
    assert (body["kind"], body["pages"], body["content_type"]) == (kind, pages, content_type)
    assert body["name"] == fixtures.ALL[key]()[0] and body["tokens"] > 0
    attachment = Attachment.objects.get(pk=body["id"])
    assert body["size"] == attachment.size == sum(p.stat().st_size for p in stored_files(media))
    assert body["url"] == f"/api/attachments/{attachment.pk}/"
    assert (body["thumbnail"] is not None) == (kind == "image")
    assert len(attachment.pk) >= 22  # 128 random bits


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_every_refused_fixture_gets_its_code_and_leaves_nothing_stored(member, media, key):
    status, code = REFUSED[key]
    response = upload(member, fixtures.ALL[key])
    assert response.status_code == status
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_a_pdf_named_like_a_photo_is_the_pdf_it_is(member):
    attachment = uploaded(member, fixtures.pdf_named_jpg)
    assert (attachment.kind, attachment.name, attachment.file.name.rsplit("/", 1)[1]) == (
        "document",
        "photo.jpg",
        "document.pdf",
    )


def test_the_stored_files_are_named_by_us_under_the_owner_and_the_random_id(member, alice):
    attachment = uploaded(member, ("../../etc/passwd.png", fixtures.png_screenshot()[1]))
    assert attachment.name == "passwd.png"
    assert attachment.file.name == f"attachments/{alice.pk}/{attachment.pk}/image.png"


def test_a_signed_out_upload_is_refused_with_json():
    response = upload(Client(), fixtures.csv_table)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_signed_in"
    assert not Attachment.objects.exists()


def test_an_upload_without_the_csrf_token_is_refused(alice, media):
    browser = sign_in(Client(enforce_csrf_checks=True), alice)
    assert upload(browser, fixtures.csv_table).status_code == 403
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_get_is_not_an_upload(member):
    assert member.get("/api/attachments/").status_code == 405


def test_no_file_an_empty_file_two_files_and_a_broken_form_are_bad_requests(member, media):
    answers = [
        member.post("/api/attachments/", {}),
        member.post("/api/attachments/", {"other": SimpleUploadedFile("a.txt", b"hello")}),
        upload(member, ("empty.txt", b"")),
        member.post(
            "/api/attachments/",
            {"file": [SimpleUploadedFile("a.txt", b"one"), SimpleUploadedFile("b.txt", b"two")]},
        ),
        member.generic("POST", "/api/attachments/", b"xx", content_type="multipart/form-data"),  # no boundary
    ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in answers] == [(400, "bad_request")] * 5
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_a_file_past_the_size_limit_is_refused_unstored(member, media, settings):
    settings.TOKENOFF_ATTACHMENT_MAX_BYTES = 100_000
    response = upload(member, ("big.txt", b"a" * 100_001))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert "97.7" in response.json()["error"]["message"]  # the limit, as a person reads it
    assert upload(member, ("fits.txt", b"a" * 100_000)).status_code == 201


def test_a_body_declared_past_the_limit_is_refused_before_it_is_read(member, settings):
    settings.TOKENOFF_ATTACHMENT_MAX_BYTES = 1000
    response = member.post(
        "/api/attachments/",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=B",
        CONTENT_LENGTH="999999",
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_the_size_limit_handler_stops_reading_at_the_limit(settings):
    from django.core.files.uploadhandler import StopUpload

    from chat.attachments.uploads import SizeLimitHandler

    handler = SizeLimitHandler(limit=10)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"123456", 5)
    assert handler.too_large


def test_the_quota_counts_what_the_member_stores_and_refuses_past_it(member, media, settings, bob):
    first = uploaded(member, ("a.txt", b"a" * 1000))
    settings.TOKENOFF_ATTACHMENT_QUOTA_BYTES = first.size + 1500
    response = upload(member, ("b.txt", b"b" * 1000))  # 2000 stored with its text: past the quota
    assert response.status_code == 413 and response.json()["error"]["code"] == "quota_exceeded"
    assert list(Attachment.objects.values_list("pk", flat=True)) == [first.pk]
    assert len(stored_files(media)) == 2
    assert upload(member, ("c.txt", b"c" * 100)).status_code == 201
    settings.TOKENOFF_ATTACHMENT_QUOTA_BYTES = first.size
    assert upload(member, ("d.txt", b"d")).json()["error"]["code"] == "quota_exceeded"  # full: no body read
    assert upload(sign_in(Client(), bob), ("e.txt", b"e" * 1000)).status_code == 201  # bob's own quota


def test_names_keep_what_the_member_sees_without_control_characters(member):
    assert uploaded(member, ("a\u202eb\tc\u200b.txt", b"x")).name == "abc.txt"
    assert display_name("C:\\Users\\me\\q1  \x01report.pdf") == "q1 report.pdf"
    assert display_name("\x7f") == "file"
    long = "n" * 300 + ".csv"
    name = uploaded(member, (long, b"x")).name
    assert len(name) == 255 and name.endswith(".csv")


def test_an_upload_sweeps_the_members_own_old_orphans_only(member, alice, bob, media):
    mine, theirs = uploaded(member, fixtures.csv_table), uploaded(sign_in(Client(), bob), fixtures.csv_table)
    Attachment.objects.update(created=timezone.now() - dt.timedelta(hours=25))
    uploaded(member, fixtures.markdown_notes)
    assert not Attachment.objects.filter(pk=mine.pk).exists()
    assert Attachment.objects.filter(pk=theirs.pk).exists()


def test_a_failure_while_storing_leaves_no_file_and_no_row(member, media, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Attachment, "save", broken)
    with pytest.raises(RuntimeError):
        upload(member, fixtures.png_screenshot)
    monkeypatch.undo()
    assert not Attachment.objects.exists() and stored_files(media) == []
