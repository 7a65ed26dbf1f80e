"""Share links: a read-only snapshot of a conversation at /s/<token>/, for members (or anyone, if allowed)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models.audit import AuditEntry
from chat.models.conversations import Conversation, Message, branch
from chat.models.site import SiteSettings

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A member reloading a shared page is one view: the audit trail gets one entry per viewer (all anonymous
# visitors counting as one viewer) and link in this window, and the link's view count follows it.
VIEW_WINDOW = timedelta(minutes=10)
Action = AuditEntry.Action


def new_share_token() -> str:
    """192 random bits, URL-safe: the link is the only secret a public snapshot has."""
    return secrets.token_urlsafe(24)


class ShareLinkQuerySet(models.QuerySet):
    def live(self) -> ShareLinkQuerySet:
        """Not revoked, not expired, its owner active and the conversation not deleted by the owner."""
        return self.filter(
            Q(expires__isnull=True) | Q(expires__gt=timezone.now()),
            revoked__isnull=True,
            owner__is_active=True,
            conversation__owner_deleted__isnull=True,
        )

    def served(self, token: str) -> ShareLink | None:
        """The live link with this token, read from the database on every request (no cache: a revoke
        answers 404 at once on every process); None when sharing is off or its owner may no longer share."""
        if not TOKEN.match(token or ""):
            return None
        found = self.live().select_related("owner", "conversation").filter(token=token).first()
        if found is None or not ShareLink.may_share(found.owner):
            return None
        return found


class ShareLink(models.Model):
    """A conversation's share link: the snapshot it shows is taken when the owner shares or updates it."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="share_links", verbose_name=_("conversation")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="share_links",
        verbose_name=_("owner"),
    )
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    # What the link shows: title and the branch on show (role, content, model, created), the attachments'
    # names and sizes only when included. A copy: later turns of the conversation do not leak into it.
    snapshot = models.JSONField(default=dict, editable=False)
    include_attachments = models.BooleanField(_("include attachments"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated = models.DateTimeField(_("updated"), default=timezone.now)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    views = models.PositiveIntegerField(_("views"), default=0, editable=False)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-updated", "-id"]
        constraints = [
            # Updating keeps the URL: one live link per conversation; a revoked one makes room for a new one.
            models.UniqueConstraint(
                fields=["conversation"], condition=Q(revoked__isnull=True), name="one_live_share_link"
            )
        ]
        permissions = [("share_conversation", "Can share conversations by link")]

    def __str__(self) -> str:
        return self.snapshot.get("title") or f"share link {self.pk}"

    @property
    def url(self) -> str:
        return f"/s/{self.token}/"

    @staticmethod
    def may_share(user) -> bool:
        """Sharing on for the site, and for this member: everyone, or holders of share_conversation."""
        # Read, never created here: a page that only asks costs one query and no write.
        site = SiteSettings.objects.filter(pk=1).first() or SiteSettings()
        if not (site.sharing_enabled and user.is_active):
            return False
        return site.everyone_may_share or user.has_perm("chat.share_conversation")

    @property
    def state(self) -> str:
        """active, revoked or expired."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= timezone.now():
            return "expired"
        return "active"

    def attachment_ids(self) -> set[str]:
        """The attachments the snapshot lists: the only ones its link serves."""
        if not self.include_attachments:
            return set()
        return {a["id"] for m in self.snapshot.get("messages", []) for a in m.get("attachments", [])}

    @classmethod
    def share(cls, actor, conversation: Conversation, *, include_attachments: bool, expires) -> ShareLink:
        """Share the conversation, or update its live link's snapshot and settings: the URL stays."""
        with transaction.atomic():
            # The conversation's row lock: two clicks at once make one link, not a constraint error.
            Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
            link = cls.objects.filter(conversation=conversation, revoked__isnull=True).first()
            new = link is None
            if new:
                link = cls(conversation=conversation, owner=conversation.owner)
            link.include_attachments = include_attachments
            link.expires = expires
            link.snapshot = snapshot_of(conversation, include_attachments)
            link.updated = timezone.now()
            link.save()
        shown = expires.date().isoformat() if expires else "never"
        detail = f"{link.url_hint}; expires {shown}; attachments {'in' if include_attachments else 'out'}"
        _audit(actor, Action.SHARE if new else Action.SHARE_UPDATE, conversation, detail)
        return link

    def revoke(self, actor) -> bool:
        """Revoke it from now on; False when it already was."""
        now = timezone.now()
        if not ShareLink.objects.filter(pk=self.pk, revoked__isnull=True).update(revoked=now):
            return False
        self.revoked = now
        _audit(actor, Action.SHARE_REVOKE, self.conversation, self.url_hint)
        return True

    @property
    def url_hint(self) -> str:
        # The trail names the link without handing its readers the whole token.
        return f"/s/{self.token[:6]}…/"

    def note_view(self, viewer) -> None:
        """Audit a view by anyone but the owner, once per viewer and window, and count it."""
        member = viewer if viewer.is_authenticated else None
        if member is not None and member.pk == self.owner_id:
            return
        recent = AuditEntry.objects.filter(
            action=Action.SHARE_VIEW,
            conversation_ref=self.conversation_id,
            actor=member,
            actor_name=member.get_username() if member else ANONYMOUS,
            detail=self.url_hint,
            created__gte=timezone.now() - VIEW_WINDOW,
        )
        if recent.exists():
            return
        _audit(member, Action.SHARE_VIEW, self.conversation, self.url_hint)
        ShareLink.objects.filter(pk=self.pk).update(views=F("views") + 1)


ANONYMOUS = "anonymous"


def _audit(actor, action: str, conversation: Conversation, detail: str) -> None:
    AuditEntry(
        actor=actor,
        actor_name=actor.get_username() if actor else ANONYMOUS,
        action=action,
        conversation_ref=conversation.pk,
        conversation_title=conversation.title[:200],
        owner_name=conversation.owner.get_username(),
        detail=detail[:500],
    ).save()


def snapshot_of(conversation: Conversation, include_attachments: bool) -> dict:
    """The branch on show, copied: what the link shows until the owner updates it."""
    rows = [
        m
        for m in branch(conversation)
        if m.status == Message.Status.DONE
        and m.role != Message.Role.SYSTEM
        and (m.content or m.role == "user")
    ]
    files: dict[int, list] = {}
    if include_attachments:
        links = Message._meta.get_field("attachment_links").related_model.objects
        for link in links.filter(message__in=rows).select_related("attachment"):
            a = link.attachment
            described = {
                "id": a.pk,
                "name": a.name,
                "kind": a.kind,
                "size": a.size,
                "thumbnail": bool(a.thumbnail),
            }
            files.setdefault(link.message_id, []).append(described)
    messages = [
        {
            "role": m.role,
            "content": m.content,
            "model": m.served_model or m.model,
            "created": m.created.isoformat(),
            **({"attachments": files[m.pk]} if m.pk in files else {}),
        }
        for m in rows
    ]
    return {"title": conversation.title, "messages": messages}
