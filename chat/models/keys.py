"""TokenOff API keys: a member's own or the team's, stored encrypted; the upstream is asked elsewhere."""

from __future__ import annotations

import copy

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from chat.lib import crypto
from chat.models import freshness


class UnreadableKeys(Exception):
    """Stored keys that no configured encryption key opens."""

    def __init__(self, keys: list[ApiKey]) -> None:
        super().__init__(", ".join(key.describe() for key in keys))
        self.keys = keys


class ApiKeyQuerySet(models.QuerySet):
    def for_user(self, user) -> ApiKey | None:
        """The user's own key first, the team key next.

        The rows come from the send facts (chat/models/freshness.py): a copy, still encrypted."""
        if self.query.has_filters() or user.pk is None:  # a narrowed queryset: not what is cached
            keys = {key.user_id: key for key in self.filter(Q(user=user) | Q(is_team=True))}
            return keys.get(user.pk) or keys.get(None)
        with freshness.snapshot():
            key = freshness.cached(("key", user.pk), lambda: self.filter(user=user).first())
            key = key or freshness.cached(("team key",), lambda: self.filter(is_team=True).first())
        return copy.copy(key) if key is not None else None

    def update(self, **kwargs) -> int:
        if set(kwargs) <= {"last_used"}:
            return super().update(**kwargs)  # written by sends, read by none: no new stamp for it
        with transaction.atomic(using=self.db, savepoint=False):
            count = super().update(**kwargs)
            freshness.bump(self.db)  # checks, rotation (bulk_update): the next send sees them
        return count

    def for_catalogue(self) -> ApiKey | None:
        """The key that asks the upstream for its models: the team key, else any key."""
        return self.order_by("-is_team", "pk").first()

    def by_encryption(self) -> dict[str, list[ApiKey]]:
        """The stored keys by the encryption key that opens them: current, older, unreadable."""
        found: dict[str, list[ApiKey]] = {"current": [], "older": [], "unreadable": []}
        for key in self.select_related("user").order_by("pk"):
            found[key.encryption_state].append(key)
        return found

    def rotate(self) -> int:
        """Re-encrypt every key under the first encryption key; all or nothing."""
        with transaction.atomic():
            keys = list(self.select_for_update().order_by("pk"))
            unreadable = []
            for key in keys:
                try:
                    key.encrypted = crypto.rotate(key.encrypted)
                except crypto.InvalidToken:
                    unreadable.append(key)
            if unreadable:
                # Nothing changes unless everything can: a half-rotated table is worse than none.
                raise UnreadableKeys(unreadable)
            self.model.objects.bulk_update(keys, ["encrypted"])
        return len(keys)


class ApiKey(models.Model):
    """A user's TokenOff key, or the team key (no user) used by members who have none."""

    class Check(models.TextChoices):
        OK = "ok", _("ok")
        REJECTED = "rejected", _("rejected")
        UNREACHABLE = "unreachable", _("unreachable")
        UNREADABLE = "unreadable", _("cannot be decrypted")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_key"
    )
    is_team = models.BooleanField(_("team key"), default=False, editable=False)
    encrypted = models.TextField(editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    checked = models.DateTimeField(_("last checked"), null=True, blank=True, editable=False)
    check_result = models.CharField(
        _("check result"), max_length=12, blank=True, choices=Check.choices, editable=False
    )
    check_detail = models.CharField(_("check detail"), max_length=200, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-is_team", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["is_team"], condition=Q(is_team=True), name="one_team_key"),
            models.CheckConstraint(
                condition=Q(is_team=True, user__isnull=True) | Q(is_team=False, user__isnull=False),
                name="team_key_xor_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner}: {self.masked}"

    @property
    def owner(self) -> str:
        return "Team key" if self.is_team else str(self.user)

    @property
    def masked(self) -> str:
        return f"sk-…{self.last4}"

    def describe(self) -> str:
        """How an admin finds the row: its id and owner, never the key."""
        return f"#{self.pk} ({self.owner})"

    @property
    def encryption_state(self) -> str:
        """current, older (opened by a key after the first) or unreadable (opened by none)."""
        index = crypto.opened_by(self.encrypted)
        return "unreadable" if index is None else "current" if index == 0 else "older"

    @sensitive_variables()
    def set_secret(self, secret: str) -> None:
        secret = secret.strip()
        if not secret:
            raise ValueError("An API key cannot be empty.")
        self.encrypted = crypto.encrypt(secret)
        self.last4 = secret[-4:]
        # A new key has not been checked yet.
        self.checked, self.check_result, self.check_detail = None, "", ""

    def reveal(self) -> str:
        """The key in clear: only chat/upstream/client.py's call path asks for it."""
        return crypto.decrypt(self.encrypted)

    @classmethod
    @sensitive_variables()
    def store(cls, secret: str, user=None) -> ApiKey:
        """Set or replace the user's key, or the team key when no user is given."""
        key = cls.objects.filter(user=user).first() if user else cls.objects.filter(is_team=True).first()
        key = key or cls(user=user, is_team=user is None)
        key.set_secret(secret)
        key.save()
        return key
