"""Projects: a member's folders of conversations, with instructions for every chat in them, shareable
with groups read-only or as collaborators."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProjectQuerySet:
        """The member's own projects and those shared with one of their groups."""
        return self.filter(models.Q(owner=user) | models.Q(shares__group__in=user.groups.all())).distinct()

    def writable_by(self, user) -> ProjectQuerySet:
        """Those a member may start chats in: their own, and those shared with their group to collaborate."""
        shared = ProjectShare.objects.filter(group__user=user, role=ProjectShare.Role.COLLABORATOR)
        return self.filter(models.Q(owner=user) | models.Q(pk__in=shared.values("project_id")))


class Project(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    instructions = models.TextField(
        blank=True, help_text="Added to the system prompt of every chat in the project, each time it is sent"
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)
    groups = models.ManyToManyField(Group, through="ProjectShare", related_name="projects", blank=True)
    # The owner's documents, sent in the system message of every chat in it (chat/attachments/pinned.py).
    files = models.ManyToManyField(
        "chat.Attachment", blank=True, related_name="pinned_to_projects", verbose_name=_("files")
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def role_of(self, user) -> str | None:
        """'owner', 'collaborator', 'reader' or None: the strongest role the member has here."""
        if self.owner_id == user.pk:
            return "owner"
        roles = set(self.shares.filter(group__in=user.groups.all()).values_list("role", flat=True))
        if ProjectShare.Role.COLLABORATOR in roles:
            return ProjectShare.Role.COLLABORATOR
        return ProjectShare.Role.READER if roles else None


class ProjectShare(models.Model):
    class Role(models.TextChoices):
        READER = "reader", _("reader")
        COLLABORATOR = "collaborator", _("collaborator")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="shares")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="project_shares")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.READER)

    class Meta:
        verbose_name = _("project share")
        verbose_name_plural = _("project shares")
        constraints = [models.UniqueConstraint(fields=["project", "group"], name="one_share_per_group")]

    def __str__(self) -> str:
        return f"{self.project} → {self.group} ({self.role})"
