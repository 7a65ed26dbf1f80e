"""Attachments in a snapshot: left out unless the owner includes them, then served through the link only."""

from __future__ import annotations

import pytest

from chat.models import Message, MessageAttachment
from tests.attachments import fixtures
from tests.attachments.conftest import media, uploaded  # noqa: F401  (media: each test's own folder)

pytestmark = pytest.mark.django_db


@pytest.fixture
def attached(as_alice, conversation):
    """A screenshot on the question of the branch on show, and one on the old branch's."""
    on_show, old = (
        Message.objects.filter(conversation=conversation, role="user", content=text).get()
        for text in ("Where to go in May?", "Old question")
    )
    shown, hidden = uploaded(as_alice, fixtures.png_screenshot), uploaded(as_alice, fixtures.png_screenshot)
    for attachment, message in ((shown, on_show), (hidden, old)):
        attachment.conversation = conversation
        attachment.save()
        MessageAttachment.objects.create(message=message, attachment=attachment)
    return shown, hidden


def test_attachments_are_left_out_unless_included(as_alice, as_bob, conversation, attached):
    shown, _ = attached
    url = as_alice.post(f"/c/{conversation.pk}/share/").json()["url"]
    assert shown.name not in as_bob.get(url).content.decode()
    assert as_bob.get(f"{url}attachments/{shown.pk}/").status_code == 404
    as_alice.post(f"/c/{conversation.pk}/share/", {"include_attachments": "1"})
    assert f"{url}attachments/{shown.pk}/" in as_bob.get(url).content.decode()
    response = as_bob.get(f"{url}attachments/{shown.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex"
    assert as_bob.get(f"{url}attachments/{shown.pk}/thumbnail/").status_code == 200


def test_only_the_snapshots_attachments_are_served(as_alice, as_bob, conversation, attached):
    shown, hidden = attached
    url = as_alice.post(f"/c/{conversation.pk}/share/", {"include_attachments": "1"}).json()["url"]
    assert as_bob.get(f"{url}attachments/{hidden.pk}/").status_code == 404  # the other branch's
    assert as_bob.get(f"{url}attachments/..%2F{shown.pk}/").status_code == 404
    as_alice.post(f"/c/{conversation.pk}/share/revoke/")
    assert as_bob.get(f"{url}attachments/{shown.pk}/").status_code == 404
