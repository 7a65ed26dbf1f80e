"""/review/attachments/<id>/: a conversation's attachment for a reviewer, audited, through review's checks.

Only attachments bound to a conversation (sent in a message) are reviewable: an upload never sent is
nobody's conversation. Opening the file is recorded; a thumbnail is not, since ids are learned only
from a transcript, whose every showing is recorded already (chat/review/views.py).
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from chat.attachments.serving import ID, file_response
from chat.models import Attachment, audit
from chat.models.audit import AuditEntry
from chat.review.views import reviewer_required

# reviewer_required marks every response never_cache; this says the same for the file itself.
NO_STORE = "private, no-store"


def _reviewable(pk: str) -> Attachment:
    if not ID.match(pk):
        raise Http404
    found = Attachment.objects.filter(pk=pk, conversation__isnull=False).select_related("conversation__owner")
    attachment = found.first()
    if attachment is None:
        raise Http404
    return attachment


@reviewer_required
@require_GET
def attachment_file(request: HttpRequest, pk: str) -> FileResponse:
    attachment = _reviewable(pk)
    response = file_response(attachment, cache=NO_STORE)
    detail = f"{attachment.name} ({attachment.kind}, {attachment.pk})"
    audit.record(request.user, AuditEntry.Action.ATTACHMENT, attachment.conversation, detail=detail)
    return response


@reviewer_required
@require_GET
def attachment_thumbnail(request: HttpRequest, pk: str) -> FileResponse:
    return file_response(_reviewable(pk), "thumbnail", cache=NO_STORE)
