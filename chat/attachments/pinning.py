"""Files pinned to an assistant or a project: the owner's own documents, uploaded through
POST /api/attachments/ and pinned here; sent with every chat started from the assistant or in the project
(chat/attachments/pinned.py), never served to anyone but their owner (chat/attachments/serving.py).

An upload is pinned before it is ever sent: the orphan sweep (cleanup.py) keeps it while it is pinned,
and deleting its assistant or project deletes it when nothing else uses it (`release`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Exists, Min, Model, OuterRef, Sum
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chat.attachments import cleanup
from chat.attachments.refusals import Refused
from chat.attachments.serving import ID, describe
from chat.models import Assistant, Attachment, ChatModel, MessageAttachment, Project

MAX_FILES = 10


def token_cap(holder: Assistant | Project) -> int | None:
    """What its documents may add together: a quarter of the smallest window of the models they may go to
    (an assistant's own model; any enabled model for a project's chats). None: no window known."""
    if isinstance(holder, Assistant):
        models = ChatModel.objects.filter(name=holder.model)
    else:
        models = ChatModel.objects.filter(enabled=True)
    smallest = models.aggregate(smallest=Min("context_window"))["smallest"]
    return smallest // 4 if smallest else None


@transaction.atomic
def pin(holder: Assistant | Project, user, attachment_id: str) -> Attachment:
    """Pin one of the holder's owner's own uploads to it; Refused with why not."""
    if not ID.match(attachment_id):
        raise Refused(404, "not_found", _("No such attachment."))
    # Locked as a send locks it: the sweep skips it meanwhile, or has deleted it and this finds nothing.
    attachment = Attachment.objects.select_for_update().filter(pk=attachment_id, owner=user).first()
    if attachment is None or attachment.conversation_id is not None:
        raise Refused(404, "not_found", _("No such attachment."))
    if attachment.kind != Attachment.Kind.DOCUMENT:
        raise Refused(415, "unsupported_type", _("Only documents can be pinned, not images."))
    pinned = holder.files.exclude(pk=attachment.pk)
    if pinned.count() >= MAX_FILES:
        raise Refused(400, "too_many", _("At most %(count)d files can be pinned.") % {"count": MAX_FILES})
    cap = token_cap(holder)
    total = (pinned.aggregate(total=Sum("tokens"))["total"] or 0) + attachment.tokens
    if cap is not None and total > cap:
        message = _("The pinned files would be too long: %(cap)s tokens at most together.")
        raise Refused(413, "too_large", message % {"cap": f"{cap:,}"})
    holder.files.add(attachment)
    return attachment


def unpin(holder: Assistant | Project, attachment_id: str) -> None:
    """Take a file off; the upload itself goes when nothing else uses it."""
    attachment = holder.files.filter(pk=attachment_id).first()
    if attachment is None:
        raise Refused(404, "not_found", _("No such attachment."))
    holder.files.remove(attachment)
    release([attachment.pk])


def release(pks: list[str]) -> int:
    """Delete those of these uploads that nothing uses any more: no chat, no message, no pin."""
    used = Exists(MessageAttachment.objects.filter(attachment=OuterRef("pk")))
    unused = Attachment.objects.filter(pk__in=pks, conversation__isnull=True).exclude(used)
    unused = unused.exclude(Exists(cleanup.pinned(Assistant))).exclude(Exists(cleanup.pinned(Project)))
    return unused.delete()[1].get("chat.Attachment", 0)


def holder_deleting(sender, instance: Model, **kwargs) -> None:
    """pre_delete of an assistant or project: note its files, released once it is gone."""
    instance._pinned_files = list(instance.files.values_list("pk", flat=True))


def holder_deleted(sender, instance: Model, **kwargs) -> None:
    pks = getattr(instance, "_pinned_files", [])
    if pks:
        transaction.on_commit(lambda: release(pks))


def _answer(request: HttpRequest, holder: Assistant | Project, attachment_id: str | None) -> JsonResponse:
    try:
        if request.method == "POST" and attachment_id is None:
            pin(holder, request.user, request.POST.get("attachment", ""))
        elif attachment_id is not None:
            unpin(holder, attachment_id)
    except Refused as refused:
        return refused.response()
    return JsonResponse({"files": [describe(attachment) for attachment in holder.files.order_by("name")]})


def _own_assistant(request: HttpRequest, pk: int) -> Assistant:
    assistant = Assistant.objects.filter(pk=pk, owner=request.user).first()
    if assistant is None:
        raise Http404(_("No such assistant."))
    return assistant


@login_required
@require_http_methods(["GET", "POST"])
def assistant_files(request: HttpRequest, pk: int) -> JsonResponse:
    """GET: the assistant's pinned files; POST attachment=<id>: pin one. Its owner only."""
    return _answer(request, _own_assistant(request, pk), None)


@login_required
@require_http_methods(["POST", "DELETE"])
def assistant_file(request: HttpRequest, pk: int, attachment: str) -> JsonResponse:
    """Unpin one file from the assistant."""
    return _answer(request, _own_assistant(request, pk), attachment)


@login_required
@require_http_methods(["GET", "POST"])
def project_files(request: HttpRequest, pk: int) -> JsonResponse:
    """GET: the project's pinned files; POST attachment=<id>: pin one. Its owner only."""
    return _answer(request, get_object_or_404(Project, pk=pk, owner=request.user), None)


@login_required
@require_http_methods(["POST", "DELETE"])
def project_file(request: HttpRequest, pk: int, attachment: str) -> JsonResponse:
    """Unpin one file from the project."""
    return _answer(request, get_object_or_404(Project, pk=pk, owner=request.user), attachment)
