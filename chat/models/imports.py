"""Imports of history from elsewhere: a ChatGPT export or our own export.json, run in the background."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A running job says it is alive at least this often (chat/imports/runner.py); one silent for longer was
# left behind by a process that died, and is shown (and saved) as failed.
STALE_AFTER = timedelta(minutes=2)


class ImportJob(models.Model):
    """One upload being imported: its progress, and a report of what came in, what was skipped and why."""

    class Kind(models.TextChoices):
        CHATGPT = "chatgpt", "ChatGPT"
        TOKENOFF = "tokenoff", "TokenOff Chat"

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="import_jobs",
        verbose_name=_("owner"),
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Conversations read so far")
    imported = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # How far through the file it is, in percent of its bytes: the count of conversations is not known
    # until the end (the file is read as a stream).
    progress = models.PositiveSmallIntegerField(default=0)
    # Per conversation: {"title", "outcome": imported|skipped|duplicate, "why"}.
    report = models.JSONField(default=list, blank=True)
    # The uploaded file, deleted once the job ends.
    upload = models.FileField(upload_to="imports/", blank=True)
    created = models.DateTimeField(default=timezone.now)
    heartbeat = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk}"

    @property
    def abandoned(self) -> bool:
        """Left running or queued by a process that died: nothing has said it is alive for a while."""
        if self.state not in (self.State.QUEUED, self.State.RUNNING):
            return False
        return (self.heartbeat or self.created) < timezone.now() - STALE_AFTER

    def fail_if_abandoned(self) -> ImportJob:
        """Marks a job a dead process left behind as failed, so that the page stops waiting for it."""
        if self.abandoned:
            self.state = self.State.FAILED
            self.error = "The server stopped during the import; upload the file again to finish it."
            self.finished = timezone.now()
            self.save(update_fields=["state", "error", "finished"])
            if self.upload:
                self.upload.delete(save=True)
        return self

    def as_json(self) -> dict:
        return {
            "id": self.pk,
            "kind": self.kind,
            "state": self.state,
            "total": self.total,
            "imported": self.imported,
            "skipped": self.skipped,
            "progress": 100 if self.state == self.State.DONE else self.progress,
            "error": self.error,
            "report": self.report if self.state in (self.State.DONE, self.State.FAILED) else [],
            "created": self.created.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
        }
