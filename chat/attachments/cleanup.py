"""An attachment's files go with its row, whatever deletes it; uploads never sent go after a while."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Exists, OuterRef

from chat.models import Assistant, Attachment, MessageAttachment, Project

log = logging.getLogger(__name__)


def _delete_files(storage: Storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # the row is gone either way; a file left over is logged, not fatal
            log.exception("could not delete attachment file %s", name)


def attachment_deleted(sender, instance: Attachment, **kwargs) -> None:
    """post_delete: the files go once the deletion is committed (a rolled-back delete keeps them)."""
    names = [f.name for f in (instance.file, instance.thumbnail, instance.text) if f]
    if names:
        transaction.on_commit(partial(_delete_files, instance.file.storage, names))


def sweep_orphans(now: dt.datetime, owner=None) -> int:
    """Delete uploads never sent (no conversation, no message) older than TOKENOFF_ORPHAN_HOURS."""
    with transaction.atomic():
        # Locked first, so that a send binding one of them meanwhile (it locks them too) either waits
        # and finds it gone, or holds it and it is skipped: never a sent attachment deleted.
        found = orphans(now, owner).select_for_update(skip_locked=True)
        pks = list(found.values_list("pk", flat=True))
        gone = orphans(now, owner).filter(pk__in=pks).delete()
    return gone[1].get("chat.Attachment", 0)


def orphans(now: dt.datetime, owner=None):
    cutoff = now - dt.timedelta(hours=settings.TOKENOFF_ORPHAN_HOURS)
    sent = MessageAttachment.objects.filter(attachment=OuterRef("pk"))
    found = Attachment.objects.filter(conversation__isnull=True, created__lt=cutoff).exclude(Exists(sent))
    # One pinned to an assistant or a project is in use, never sent as it is (chat/attachments/pinning.py).
    found = found.exclude(Exists(pinned(Assistant))).exclude(Exists(pinned(Project)))
    return found.filter(owner=owner) if owner is not None else found


def pinned(holder):
    """The pins of an assistant's or a project's files on the outer attachment (a subquery: no outer join,
    which PostgreSQL would not lock FOR UPDATE)."""
    return holder.files.through.objects.filter(attachment=OuterRef("pk"))
