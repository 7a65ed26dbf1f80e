"""Retention: conversations idle longer than the retention period go, except flagged ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from chat.models import Conversation, Message, audit
from chat.models.audit import AuditEntry
from chat.models.flags import Flag

BATCH = 500  # conversations per delete: short transactions, so replies keep saving meanwhile


@dataclass
class Plan:
    cutoff: dt.datetime
    conversations: int
    messages: int
    kept_flagged: int


def cutoff_for(days: int, now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=days)


def _idle_since(cutoff: dt.datetime) -> QuerySet[Conversation]:
    # A reply still being written is activity, whatever the date says.
    streaming = Message.objects.filter(conversation=OuterRef("pk"), status=Message.Status.STREAMING)
    return Conversation.objects.filter(updated__lt=cutoff).exclude(Exists(streaming))


def _flagged() -> Exists:
    return Exists(Flag.objects.open().filter(conversation=OuterRef("pk")))


def purgeable(cutoff: dt.datetime) -> QuerySet[Conversation]:
    """Conversations last active before the cutoff, without an open flag."""
    return _idle_since(cutoff).exclude(_flagged())


def plan(cutoff: dt.datetime) -> Plan:
    """What a purge would remove now, counted, without removing anything."""
    doomed = purgeable(cutoff)
    return Plan(
        cutoff=cutoff,
        conversations=doomed.count(),
        messages=Message.objects.filter(conversation__in=doomed.values("pk")).count(),
        kept_flagged=_idle_since(cutoff).filter(_flagged()).count(),
    )


def purge(cutoff: dt.datetime, days: int, batch: int = BATCH) -> int:
    """Delete in batches; each batch re-checks the rules, so one flagged or resumed meanwhile stays."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(purgeable(cutoff).order_by("updated", "id").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            deleted += purgeable(cutoff).filter(pk__in=ids).delete()[1].get("chat.Conversation", 0)
    if deleted:
        audit.record(
            None,
            AuditEntry.Action.PURGE,
            detail=f"{deleted} conversation(s) idle since before {cutoff:%Y-%m-%d %H:%M} UTC ({days} days)",
        )
    return deleted
