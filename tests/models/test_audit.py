"""The audit trail (chat/models/audit.py): written once, changed by nobody, and it outlives who it names."""

from __future__ import annotations

import pytest

from chat.models import audit
from chat.models.audit import AuditEntry, AuditEntryIsPermanent
from tests.review import data as review_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(alice, reviewer):
    return audit.record(reviewer, AuditEntry.Action.VIEW, review_data.conversation(alice, "Secret plans"))


def test_a_row_cannot_be_changed_or_deleted_through_the_model(entry):
    entry.detail = "rewritten"
    with pytest.raises(AuditEntryIsPermanent):
        entry.save()
    with pytest.raises(AuditEntryIsPermanent):
        entry.delete()
    assert AuditEntry.objects.get().detail == ""


def test_a_reviewers_deletion_keeps_their_name_in_the_trail(entry, reviewer):
    reviewer.delete()
    row = AuditEntry.objects.get()
    assert row.actor is None and row.actor_name == "rita"
