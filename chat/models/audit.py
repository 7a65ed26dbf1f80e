"""The review audit trail: who read, searched, flagged, exported or purged which conversation, and when."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models.conversations import Conversation


class AuditEntryIsPermanent(Exception):
    """An audit row is written once and never changed or removed by the site."""


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", _("opened the transcript")
        SEARCH = "search", _("searched")
        FLAG = "flag", _("flagged")
        RESOLVE = "resolve", _("resolved a flag")
        EXPORT = "export", _("exported")
        PURGE = "purge", _("purged")
        ATTACHMENT = "attachment", _("opened an attachment")
        # Single sign-on: a member's groups changed to follow the identity provider's groups claim.
        GROUPS = "groups", _("changed groups from the directory")
        # Share links (chat/sharing/): the owner's actions, and views by anyone but the owner.
        SHARE = "share", _("shared by link")
        SHARE_VIEW = "share_view", _("opened a share link")
        SHARE_UPDATE = "share_update", _("updated a share link")
        SHARE_REVOKE = "share_revoke", _("revoked a share link")

    created = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # The names are copied, not only linked: the trail must still say who and what after the
    # reviewer's account or the conversation (retention) is gone.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    conversation_ref = models.BigIntegerField(_("conversation"), null=True, blank=True, db_index=True)
    conversation_title = models.CharField(_("title then"), max_length=200, blank=True)
    owner_name = models.CharField(_("owner"), max_length=150, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        target = f" conversation #{self.conversation_ref}" if self.conversation_ref else ""
        return f"{self.actor_name} {self.get_action_display()}{target}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditEntryIsPermanent("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryIsPermanent("Audit entries cannot be deleted.")


def _entry(actor, action: str, conversation: Conversation | None, detail: str) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
        action=action,
        conversation_ref=conversation.pk if conversation else None,
        conversation_title=(conversation.title[:200] if conversation else ""),
        owner_name=conversation.owner.get_username() if conversation else "",
        detail=detail[:500],
    )


def record(actor, action: str, conversation: Conversation | None = None, detail: str = "") -> AuditEntry:
    """Write one row; conversation should come with its owner selected."""
    entry = _entry(actor, action, conversation, detail)
    entry.save()
    return entry


def record_many(actor, action: str, conversations: Iterable[Conversation], detail: str = "") -> None:
    AuditEntry.objects.bulk_create([_entry(actor, action, c, detail) for c in conversations])
