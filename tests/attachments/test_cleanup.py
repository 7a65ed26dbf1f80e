"""Files go with their rows (chat/attachments/cleanup.py) on every delete path; orphans are swept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from chat.attachments.cleanup import sweep_orphans
from chat.models import Attachment, Conversation, MessageAttachment
from chat.review import retention
from tests.attachments import fixtures
from tests.attachments.conftest import stored_files, uploaded
from tests.review import data as review_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(member, alice) -> Attachment:
    """An image sent in a conversation of alice's: its file and thumbnail on disk."""
    attachment = uploaded(member, fixtures.png_screenshot)
    conversation = review_data.conversation(alice, "With a screenshot")
    attachment.conversation = conversation
    attachment.save()
    MessageAttachment.objects.create(message=conversation.messages.first(), attachment=attachment)
    return attachment


def test_the_owner_deleting_the_conversation_deletes_the_files(
    member, sent, media, django_capture_on_commit_callbacks
):
    assert len(stored_files(media)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert member.post(f"/c/{sent.conversation_id}/delete/").status_code == 200
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_deleting_the_account_deletes_its_files(alice, sent, media, django_capture_on_commit_callbacks):
    uploaded_not_sent = Attachment.objects.count()
    assert uploaded_not_sent == 1
    with django_capture_on_commit_callbacks(execute=True):
        alice.delete()
    assert stored_files(media) == []


def test_the_retention_purge_deletes_the_files(sent, media, django_capture_on_commit_callbacks):
    Conversation.objects.update(updated=timezone.now() - dt.timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.purge(retention.cutoff_for(30), 30) == 1
    assert stored_files(media) == []


def test_purge_conversations_deletes_the_files_and_sweeps_orphans(
    member, sent, media, django_capture_on_commit_callbacks
):
    orphan = uploaded(member, fixtures.csv_table)
    Attachment.objects.filter(pk=orphan.pk).update(created=timezone.now() - dt.timedelta(hours=25))
    Conversation.objects.update(updated=timezone.now() - dt.timedelta(days=40))
    call_command("purge_conversations", "--days", "30", stdout=(dry := _Out()))
    assert "1 attachment(s)" in dry.text and len(stored_files(media)) == 4
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_conversations", "--days", "30", "--yes", stdout=_Out())
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_orphans_are_swept_with_retention_off_too(
    member, media, settings, django_capture_on_commit_callbacks
):
    settings.TOKENOFF_RETENTION_DAYS = 0
    uploaded(member, fixtures.csv_table)
    Attachment.objects.update(created=timezone.now() - dt.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_conversations", "--yes", stdout=(out := _Out()))
    assert "Deleted 1 attachment(s)" in out.text and stored_files(media) == []


def test_the_sweep_takes_only_old_uploads_never_sent(
    member, alice, sent, media, django_capture_on_commit_callbacks
):
    old, recent = uploaded(member, fixtures.csv_table), uploaded(member, fixtures.markdown_notes)
    bound = uploaded(member, fixtures.html_page)
    bound.conversation = sent.conversation
    bound.save()
    long_ago = timezone.now() - dt.timedelta(hours=25)
    Attachment.objects.exclude(pk=recent.pk).update(created=long_ago)
    Attachment.objects.filter(pk=sent.pk).update(conversation=None)  # in a message, though unbound: kept
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_orphans(timezone.now()) == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {recent.pk, bound.pk, sent.pk}
    assert not any(old.pk in str(path) for path in stored_files(media))


def test_a_delete_rolled_back_keeps_the_files(sent, media):
    with pytest.raises(RuntimeError), transaction.atomic():
        sent.delete()
        raise RuntimeError
    assert len(stored_files(media)) == 2


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass
