"""GET /api/attachments/<id>/ (chat/attachments/serving.py): the owner's, inert; 404 for anyone else."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from chat.models import Conversation
from tests.attachments import fixtures
from tests.attachments.conftest import sign_in, uploaded

pytestmark = pytest.mark.django_db
SANDBOX = "default-src 'none'; sandbox"


def inert(response) -> bool:
    return (
        response["X-Content-Type-Options"] == "nosniff"
        and response["Content-Security-Policy"] == SANDBOX
        and "private" in response["Cache-Control"]
    )


def test_the_owner_gets_an_image_inline_with_the_headers_that_keep_it_inert(member):
    attachment = uploaded(member, fixtures.heic_photo)
    response = member.get(f"/api/attachments/{attachment.pk}/")
    assert response.status_code == 200 and inert(response)
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'inline; filename="IMG_0002.jpg"'
    assert b"".join(response.streaming_content) == attachment.file.open("rb").read()
    thumbnail = member.get(f"/api/attachments/{attachment.pk}/thumbnail/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp" and inert(thumbnail)


def test_a_document_is_a_download_under_its_name_in_rfc_5987(member):
    attachment = uploaded(member, ("Bericht über Q1.pdf", fixtures.pdf_small()[1]))
    response = member.get(f"/api/attachments/{attachment.pk}/")
    assert response.status_code == 200 and inert(response) and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''Bericht%20%C3%BCber%20Q1.pdf"
    assert member.get(f"/api/attachments/{attachment.pk}/thumbnail/").status_code == 404


@pytest.mark.parametrize("key", ["html_page", "svg_with_script"])
def test_html_and_svg_are_served_as_plain_text_downloads_never_as_markup(member, key):
    attachment = uploaded(member, fixtures.ALL[key])
    response = member.get(f"/api/attachments/{attachment.pk}/")
    assert response["Content-Type"] == "text/plain; charset=utf-8" and inert(response)
    assert response["Content-Disposition"].startswith("attachment;")


def test_a_pdf_that_said_it_was_a_photo_downloads_as_a_pdf(member):
    attachment = uploaded(member, fixtures.pdf_named_jpg)
    response = member.get(f"/api/attachments/{attachment.pk}/")
    assert response["Content-Disposition"] == 'attachment; filename="photo.jpg.pdf"'


def test_utf16_text_is_served_in_its_own_charset(member):
    attachment = uploaded(member, fixtures.utf16_text)
    assert member.get(f"/api/attachments/{attachment.pk}/")["Content-Type"] == "text/plain; charset=utf-16"


def test_another_member_and_anyone_signed_out_get_404(member, bob):
    attachment = uploaded(member, fixtures.png_screenshot)
    for client in (sign_in(Client(), bob), Client()):
        for url in (f"/api/attachments/{attachment.pk}/", f"/api/attachments/{attachment.pk}/thumbnail/"):
            assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("pk", ["nothere0000000000000000", "a.b", "%2e%2e", "x" * 40, "..%2fetc"])
def test_unknown_and_odd_ids_get_404(member, pk):
    assert member.get(f"/api/attachments/{pk}/").status_code == 404


def test_a_conversation_its_owner_deleted_takes_its_files_from_the_owner(member, alice):
    attachment = uploaded(member, fixtures.csv_table)
    attachment.conversation = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    attachment.save()
    assert member.get(f"/api/attachments/{attachment.pk}/").status_code == 200
    Conversation.objects.update(owner_deleted=timezone.now())  # flagged, so only hidden (docs/review.md)
    assert member.get(f"/api/attachments/{attachment.pk}/").status_code == 404


def test_a_file_missing_from_storage_is_a_404_not_a_500(member):
    attachment = uploaded(member, fixtures.csv_table)
    attachment.file.storage.delete(attachment.file.name)
    assert member.get(f"/api/attachments/{attachment.pk}/").status_code == 404
