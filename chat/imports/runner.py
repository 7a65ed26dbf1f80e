"""Running an import: the file read as a stream, each conversation parsed and saved on its own, the job's
progress written as it goes. From the settings page it runs in a thread of the serving process, so it
goes on when the page is reloaded or closed; the management command runs it in the foreground."""

from __future__ import annotations

import logging
import threading
import time
from typing import IO

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from chat.imports import chatgpt, saving, sources, tokenoff
from chat.imports.parsed import Parsed, Skip
from chat.models import ChatModel, ImportJob, Preferences
from chat.models.imports import STALE_AFTER

log = logging.getLogger(__name__)

PARSERS = {ImportJob.Kind.CHATGPT: chatgpt.parse, ImportJob.Kind.TOKENOFF: tokenoff.parse}
REPORT_LIMIT = 5000  # rows kept in the report; the counts go on past it
SAVE_EVERY = 1.0  # seconds between progress writes
MAX_CONTENT = 200_000  # characters kept of one message: exports hold long code answers
# One import at a time per process: an import is heavy on the database, chats come first.
_slots = threading.BoundedSemaphore(1)


def fallback_model(owner) -> str:
    """For conversations whose export names no model: the member's default, else the site's."""
    default = ChatModel.default()
    return Preferences.of(owner).default_model_name or (default.name if default else "") or "unknown"


class Progress:
    """The job's counts and report, written to the database at most once a second."""

    def __init__(self, job: ImportJob, progress) -> None:
        self.job, self.progress, self.saved = job, progress, 0.0

    def note(self, title: str, outcome: str, why: str = "") -> None:
        job = self.job
        job.total += 1
        if outcome == "imported":
            job.imported += 1
        else:
            job.skipped += 1
        if len(job.report) < REPORT_LIMIT:
            job.report.append({"title": title[:200], "outcome": outcome, "why": why})
        if time.monotonic() - self.saved >= SAVE_EVERY:
            self.flush()

    def flush(self) -> None:
        job = self.job
        job.progress, job.heartbeat = self.progress(), timezone.now()
        job.save(update_fields=["total", "imported", "skipped", "report", "progress", "heartbeat"])
        self.saved = time.monotonic()


class Batch:
    """Parsed conversations waiting to be saved together: a bounded number of them and their messages."""

    CONVERSATIONS, MESSAGES = 100, 5000

    def __init__(self, job: ImportJob, fallback: str, progress: Progress) -> None:
        self.job, self.fallback, self.progress = job, fallback, progress
        self.parsed: list[Parsed] = []
        self.messages = 0

    def add(self, parsed: Parsed) -> None:
        self.parsed.append(parsed)
        self.messages += len(parsed.items)
        if len(self.parsed) >= self.CONVERSATIONS or self.messages >= self.MESSAGES:
            self.flush()

    def flush(self) -> None:
        if not self.parsed:
            return
        for parsed, saved in zip(
            self.parsed, saving.save(self.job.owner, self.parsed, self.fallback), strict=True
        ):
            if saved is None:
                self.progress.note(parsed.title, "skipped", "already imported")
            else:
                self.progress.note(saved.title, "imported", "; ".join(parsed.notes))
        self.parsed, self.messages = [], 0


def _read(raw, parse, batch: Batch, progress: Progress) -> None:
    try:
        batch.add(parse(raw, MAX_CONTENT))
    except Skip as skip:
        title = raw.get("title") if isinstance(raw, dict) and isinstance(raw.get("title"), str) else ""
        progress.note(title, "skipped", str(skip))


def run(job: ImportJob) -> ImportJob:
    """Imports the job's uploaded file, then deletes it."""
    try:
        with job.upload.open("rb") as file:
            return process(job, file, job.upload.size)
    finally:
        job.upload.delete(save=True)


def process(job: ImportJob, file: IO[bytes], size: int) -> ImportJob:
    """Imports a file of `size` bytes; the job ends done or failed, with its report."""
    job.state, job.heartbeat = ImportJob.State.RUNNING, timezone.now()
    job.save(update_fields=["state", "heartbeat"])
    progress = Progress(job, lambda: 0)
    try:
        with sources.opened(file, size) as stream:
            if stream.kind != job.kind:
                job.kind = stream.kind
                job.save(update_fields=["kind"])
            progress.progress = stream.progress
            parse, batch = PARSERS[stream.kind], Batch(job, fallback_model(job.owner), progress)
            try:
                for raw in stream.conversations:
                    _read(raw, parse, batch, progress)
            finally:
                batch.flush()  # what was read before a broken end of the file still comes in
        job.state = ImportJob.State.DONE
    except sources.Refused as refused:
        job.state, job.error = ImportJob.State.FAILED, str(refused)[:300]
    except Exception:
        log.exception("import %s failed", job.pk)
        job.state, job.error = ImportJob.State.FAILED, "The import stopped on an unexpected error."
    progress.flush()
    job.finished = timezone.now()
    job.save(update_fields=["state", "error", "finished", "kind"])
    return job


def _in_thread(job_id: int) -> None:
    close_old_connections()
    try:
        job = ImportJob.objects.select_related("owner").get(pk=job_id)
        # Waiting for the slot still says the job is alive, so that it is not taken for abandoned.
        while not _slots.acquire(timeout=STALE_AFTER.total_seconds() / 4):
            ImportJob.objects.filter(pk=job_id).update(heartbeat=timezone.now())
        try:
            run(job)
        finally:
            _slots.release()
    except Exception:
        log.exception("import %s could not run", job_id)
    finally:
        connection.close()


def start(job: ImportJob) -> None:
    """Runs the job in a thread of this process once the job's row is committed."""
    thread = threading.Thread(target=_in_thread, args=(job.pk,), name=f"import-{job.pk}", daemon=True)
    transaction.on_commit(thread.start)
