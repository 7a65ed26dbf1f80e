"""/review/attachments/<id>/ (chat/review/attachments.py): reviewers only, sent attachments only, audited."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Attachment
from chat.models.audit import AuditEntry
from tests.attachments import fixtures
from tests.attachments.conftest import sign_in, uploaded
from tests.review import data as review_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(member, alice) -> Attachment:
    attachment = uploaded(member, fixtures.png_screenshot)
    attachment.conversation = review_data.conversation(alice, "With a screenshot")
    attachment.save()
    return attachment


def test_a_reviewer_opens_a_sent_attachment_and_the_trail_records_it(sent, reviewer):
    browser = sign_in(Client(), reviewer)
    response = browser.get(f"/review/attachments/{sent.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ATTACHMENT)
    assert (entry.actor, entry.conversation_ref, entry.owner_name) == (
        reviewer,
        sent.conversation_id,
        "alice",
    )
    assert sent.name in entry.detail and sent.pk in entry.detail
    assert browser.get(f"/review/attachments/{sent.pk}/thumbnail/").status_code == 200


def test_an_upload_never_sent_is_no_conversation_to_review(member, reviewer):
    attachment = uploaded(member, fixtures.png_screenshot)
    assert sign_in(Client(), reviewer).get(f"/review/attachments/{attachment.pk}/").status_code == 404
    assert not AuditEntry.objects.exists()


def test_members_get_what_review_answers_them_and_nothing_is_recorded(sent, bob, member):
    url = f"/review/attachments/{sent.pk}/"
    assert sign_in(Client(), bob).get(url).status_code == 403
    assert member.get(url).status_code == 403  # the owner too: review is not their way in
    signed_out = Client().get(url)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/")
    assert not AuditEntry.objects.exists()


def test_review_off_is_404(sent, reviewer, settings):
    settings.TOKENOFF_REVIEW_ENABLED = False
    assert sign_in(Client(), reviewer).get(f"/review/attachments/{sent.pk}/").status_code == 404


def test_staff_without_the_review_permission_get_403_and_nothing_is_recorded(sent, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="staff-password-1", is_staff=True)
    browser = sign_in(Client(), staff)
    for url in (f"/review/attachments/{sent.pk}/", f"/review/attachments/{sent.pk}/thumbnail/"):
        assert browser.get(url).status_code == 403
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ATTACHMENT).exists()
