"""Assistants: a saved start for a chat (model, system prompt, parameters), personal or shared, versioned."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What a version keeps: every field a member edits, so a roll back restores the whole assistant.
SNAPSHOT_FIELDS = ("name", "icon", "model", "system_prompt", "parameters", "visibility")


class AssistantQuerySet(models.QuerySet):
    def visible_to(self, user) -> AssistantQuerySet:
        """Their own, and, with use_assistant, the ones shared with the team or one of their groups."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        mine = Q(owner=user)
        if not user.has_perm("chat.use_assistant"):
            return self.filter(mine)
        groups = list(user.groups.values_list("pk", flat=True))
        shared = Q(visibility=Assistant.Visibility.TEAM) | Q(
            visibility=Assistant.Visibility.GROUPS, groups__in=groups
        )
        # Someone else's retired assistant is gone for everyone but its owner.
        return self.filter(mine | (shared & Q(retired=False))).distinct()


class Assistant(models.Model):
    class Visibility(models.TextChoices):
        PERSONAL = "personal", _("only me")
        GROUPS = "groups", _("my groups")
        TEAM = "team", _("the whole team")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assistants", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=100)
    icon = models.CharField(_("icon"), max_length=8, blank=True, help_text=_("An emoji or a short glyph."))
    # The model's name, as Conversation.model keeps it: the catalogue row may be renamed or retired.
    model = models.CharField(_("model"), max_length=100)
    system_prompt = models.TextField(_("system prompt"), blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    visibility = models.CharField(
        _("shared with"), max_length=8, choices=Visibility.choices, default=Visibility.PERSONAL
    )
    groups = models.ManyToManyField(Group, blank=True, related_name="assistants", verbose_name=_("groups"))
    # The owner's documents, sent in the system message of each chat started from it (attachments/pinned.py).
    files = models.ManyToManyField(
        "chat.Attachment", blank=True, related_name="pinned_to_assistants", verbose_name=_("files")
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    retired = models.BooleanField(_("retired"), default=False)
    # Set when an admin retired the model it used and moved it to a replacement: the gallery says so.
    moved_from = models.CharField(_("moved from model"), max_length=100, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), default=timezone.now)

    objects = AssistantQuerySet.as_manager()

    class Meta:
        verbose_name = _("assistant")
        verbose_name_plural = _("assistants")
        ordering = ["name", "id"]
        permissions = [
            ("use_assistant", "Can start chats from assistants shared with them"),
            ("publish_assistant", "Can share assistants with groups or the team"),
        ]

    def __str__(self) -> str:
        return f"{self.icon} {self.name}".strip()

    def snapshot(self) -> dict:
        data = {field: getattr(self, field) for field in SNAPSHOT_FIELDS}
        data["groups"] = sorted(self.groups.values_list("pk", flat=True)) if self.pk else []
        return data

    @transaction.atomic
    def save_version(self, author, groups: list | None = None, note: str = "") -> AssistantVersion:
        """Save the assistant and record what it now is as its next version."""
        locked = Assistant.objects.select_for_update().filter(pk=self.pk).first() if self.pk else None
        self.version = (locked.version if locked else 0) + 1
        self.updated = timezone.now()
        self.save()
        if groups is not None:
            self.groups.set(groups if self.visibility == self.Visibility.GROUPS else [])
        return self.versions.create(number=self.version, snapshot=self.snapshot(), author=author, note=note)

    def roll_back(self, number: int, author) -> AssistantVersion:
        """A new version copying an old one: history only grows."""
        old = self.versions.get(number=number)
        for field in SNAPSHOT_FIELDS:
            if field in old.snapshot:
                setattr(self, field, old.snapshot[field])
        groups = Group.objects.filter(pk__in=old.snapshot.get("groups", []))
        return self.save_version(author, groups=list(groups), note=f"rolled back to {number}")

    @classmethod
    def move_model(cls, retired: str, replacement: str, author) -> int:
        """Every assistant on the retired model now uses the replacement, each as a new version."""
        moved = 0
        for assistant in cls.objects.filter(model=retired):
            assistant.model = replacement
            assistant.moved_from = retired
            assistant.save_version(author, note=f"moved from {retired}")
            moved += 1
        return moved


class AssistantVersion(models.Model):
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"), default=dict)
    created = models.DateTimeField(_("created"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("assistant version")
        verbose_name_plural = _("assistant versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["assistant", "number"], name="assistant_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.assistant_id} v{self.number}"
