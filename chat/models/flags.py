"""Flags: a reviewer marks a conversation for attention with a note.

A flagged conversation outlives retention and its owner's delete: the owner no longer sees it, review
keeps it until its last open flag is resolved, and then it goes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models.conversations import Conversation

MAX_NOTE = 1000


class FlagQuerySet(models.QuerySet):
    def open(self) -> FlagQuerySet:
        return self.filter(resolved_at__isnull=True)

    def resolved(self) -> FlagQuerySet:
        return self.filter(resolved_at__isnull=False)


class Flag(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="flags")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), max_length=MAX_NOTE)
    created = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    objects = FlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-created", "-id"]
        indexes = [
            # Open flags are few and asked for on every filtered list and by retention.
            models.Index(fields=["conversation"], condition=Q(resolved_at__isnull=True), name="open_flags"),
        ]

    def __str__(self) -> str:
        return f"Flag on conversation #{self.conversation_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @classmethod
    def raise_on(cls, conversation: Conversation, reviewer, note: str) -> Flag:
        """A new open flag; the note is checked by FlagForm, as any model field is by its form."""
        return cls.objects.create(conversation=conversation, created_by=reviewer, note=note.strip())

    def resolve(self, reviewer) -> None:
        self.resolved_by = reviewer
        self.resolved_at = timezone.now()
        self.save(update_fields=["resolved_by", "resolved_at"])


def locked_conversation(pk: int) -> Conversation | None:
    """The conversation with its row locked to the end of the transaction, or None when it is gone.

    Raising a flag, resolving one and the owner's delete all take this lock, so that a delete never
    slips between "no open flag" and a new flag, nor two last resolutions miss each other.
    """
    rows = Conversation.objects.select_for_update(of=("self",)).select_related("owner")
    return rows.filter(pk=pk).first()


def released(conversation: Conversation) -> bool:
    """Deleted by its owner and no longer held by an open flag: it goes now."""
    return conversation.owner_deleted is not None and not conversation.flags.open().exists()
