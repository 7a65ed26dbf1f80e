"""Retention (chat/review/retention.py) and its command, purge_conversations: a dry run unless --yes."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from chat.models import Conversation, Message, audit
from chat.models.audit import AuditEntry
from chat.models.flags import Flag
from tests.review import data as review_data
from tests.review.data import days_ago

pytestmark = pytest.mark.django_db


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_conversations", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def history(alice, reviewer):
    """Old, old-but-flagged, old-with-a-resolved-flag, old-but-still-streaming, and recent conversations."""
    old = review_data.conversation(alice, "old", when=days_ago(100))
    flagged = review_data.conversation(alice, "old but flagged", when=days_ago(100))
    Flag.raise_on(flagged, reviewer, "keep this")
    was_flagged = review_data.conversation(alice, "old, flag resolved", when=days_ago(100))
    Flag.raise_on(was_flagged, reviewer, "done").resolve(reviewer)
    streaming = review_data.conversation(alice, "old but a reply is running", when=days_ago(100))
    Message.objects.create(conversation=streaming, role="assistant", status="streaming")
    review_data.conversation(alice, "recent", when=days_ago(10))
    audit.record(reviewer, AuditEntry.Action.VIEW, old)
    return old


def titles() -> list[str]:
    return sorted(Conversation.objects.values_list("title", flat=True))


def test_a_dry_run_counts_and_deletes_nothing(history):
    output = purge("--days", "90")
    assert "Dry run: 2 conversation(s) (4 messages)" in output and "1 flagged one(s) are kept" in output
    assert "--yes" in output and len(titles()) == 5


def test_yes_deletes_the_old_ones_and_keeps_flagged_streaming_and_recent_ones(history):
    output = purge("--days", "90", "--yes")
    assert "Deleted 2 conversation(s)" in output
    assert titles() == ["old but a reply is running", "old but flagged", "recent"]
    assert not Message.objects.filter(conversation_id=history.pk).exists()


def test_the_trail_outlives_the_conversations_and_records_the_purge(history):
    purge("--days", "90", "--yes")
    view = AuditEntry.objects.get(action="view")
    assert (view.conversation_ref, view.conversation_title, view.owner_name) == (history.pk, "old", "alice")
    purged = AuditEntry.objects.get(action="purge")
    assert (
        purged.actor is None
        and purged.actor_name == "system"
        and purged.detail.startswith("2 conversation(s)")
    )


def test_the_setting_gives_the_period(history, settings):
    settings.TOKENOFF_RETENTION_DAYS = 5
    assert "Dry run: 3 conversation(s)" in purge()


def test_retention_off_purges_nothing(history, settings):
    settings.TOKENOFF_RETENTION_DAYS = 0
    assert "Retention is off" in purge("--yes")
    assert len(titles()) == 5


def test_a_bad_period_is_refused(history):
    with pytest.raises(CommandError, match="at least 1"):
        purge("--days", "0", "--yes")
    assert len(titles()) == 5


def test_it_deletes_in_batches(alice):
    for _ in range(7):
        review_data.conversation(alice, "old", when=days_ago(40))
    from chat.review import retention

    assert retention.purge(retention.cutoff_for(30), 30, batch=3) == 7
    assert not Conversation.objects.exists()
    assert AuditEntry.objects.get(action="purge").detail.startswith("7 conversation(s)")
