"""Personal API tokens: how a member's scripts call /api/v1/ in their name. Only a digest is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

MARKER = "tok_"
PREFIX_CHARS = 8  # after the marker: enough to tell one's tokens apart, far too few to guess the rest
# last_used is written at most this often: a script calling in a loop costs no write per call.
LAST_USED_EVERY = timedelta(minutes=1)


def digest_of(token: str) -> str:
    """The stored form of a token: 32 random bytes need no slow hash (nothing to guess from a digest)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def of(self, user) -> ApiTokenQuerySet:
        return self.filter(owner=user).order_by("-created", "-id")

    @sensitive_variables("token")
    def authenticate(self, token: str) -> ApiToken | None:
        """The live token this is, with its owner; None if unknown, revoked, expired or its owner inactive."""
        if not token.startswith(MARKER) or len(token) > 200:
            return None
        found = self.select_related("owner").filter(digest=digest_of(token)).first()
        if found is None or not found.usable:
            return None
        return found


class ApiToken(models.Model):
    """A member's personal token for /api/v1/: shown once, stored as a digest, with a prefix to tell it by."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. a script."))
    prefix = models.CharField(_("prefix"), max_length=20, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created", "-id"]
        permissions = [("manage_api_tokens", "Can create personal API tokens")]

    def __str__(self) -> str:
        return f"{self.name} ({self.shown_prefix})"

    @property
    def shown_prefix(self) -> str:
        return f"{MARKER}{self.prefix}…"

    @classmethod
    def may_create(cls, user) -> bool:
        """Whether this member may create tokens: the permission decides (superusers always may)."""
        return user.is_active and user.has_perm("chat.manage_api_tokens")

    @classmethod
    @sensitive_variables("token")
    def issue(cls, owner, name: str, expires=None) -> tuple[ApiToken, str]:
        """A new token for this member: the row, and the token itself (never stored, never shown again)."""
        token = MARKER + secrets.token_urlsafe(32)
        row = cls.objects.create(
            owner=owner,
            name=name.strip()[:100] or "API token",
            prefix=token[len(MARKER) : len(MARKER) + PREFIX_CHARS],
            digest=digest_of(token),
            expires=expires,
        )
        return row, token

    @property
    def state(self) -> str:
        """active, revoked or expired."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= timezone.now():
            return "expired"
        return "active"

    @property
    def usable(self) -> bool:
        """Live, and its owner still an active member: deactivating someone stops their tokens at once."""
        return self.state == "active" and self.owner.is_active

    def revoke(self) -> bool:
        """Revoke it from now on; False when it already was."""
        if self.revoked is not None:
            return False
        self.revoked = timezone.now()
        return bool(ApiToken.objects.filter(pk=self.pk, revoked__isnull=True).update(revoked=self.revoked))

    def mark_used(self) -> None:
        """Note the use, once a minute at most."""
        now = timezone.now()
        if self.last_used is None or now - self.last_used >= LAST_USED_EVERY:
            self.last_used = now
            ApiToken.objects.filter(pk=self.pk).update(last_used=now)
