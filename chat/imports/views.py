"""/imports/: upload a file to import (it runs in the background), and the job's progress and report."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from chat.attachments.refusals import Refused, refusal
from chat.attachments.uploads import MULTIPART_MARGIN, SizeLimitHandler
from chat.imports import runner
from chat.models import ImportJob

# A ChatGPT export of years of chats runs to hundreds of megabytes.
MAX_BYTES = getattr(settings, "TOKENOFF_IMPORT_MAX_BYTES", 1024**3)


def _too_large() -> Refused:
    limit = filesizeformat(MAX_BYTES)
    return Refused(
        413, "too_large", _("This file is too large to import: %(limit)s at most.") % {"limit": limit}
    )


@csrf_exempt  # checked by csrf_protect below: the check reads the form, so the limiter must be in first
@require_POST
def upload(request: HttpRequest) -> JsonResponse:
    """Takes the file, records a job and starts it; the page then polls the job."""
    if not request.user.is_authenticated:
        return refusal(401, "not_signed_in", _("Sign in to import conversations."))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BYTES + MULTIPART_MARGIN:
        return _too_large().response()
    limiter = SizeLimitHandler(request, MAX_BYTES)
    request.upload_handlers = [limiter, *request.upload_handlers]
    try:
        request.FILES  # noqa: B018 (parsed here, through the limiter, so that a broken body is our 400)
    except (MultiPartParserError, SuspiciousOperation):
        return refusal(400, "bad_request", _("The upload is not a well-formed multipart form."))
    return _start(request, limiter)


@csrf_protect
def _start(request: HttpRequest, limiter: SizeLimitHandler) -> JsonResponse:
    if limiter.too_large:
        return _too_large().response()
    uploaded = request.FILES.get("file")
    if limiter.too_many or uploaded is None or not uploaded.size:
        return refusal(400, "bad_request", _("Send one file, in the field named file."))
    kind = request.POST.get("kind") or ImportJob.Kind.CHATGPT
    if kind not in ImportJob.Kind.values:
        return refusal(400, "bad_request", _("Unknown kind of import."))
    job = ImportJob(owner=request.user, kind=kind)
    job.upload.save("upload", uploaded, save=False)
    job.save()
    runner.start(job)
    return JsonResponse(job.as_json(), status=202)


@login_required
@require_GET
@never_cache
def status(request: HttpRequest, pk: int) -> JsonResponse:
    """A job's progress, and its report once it ends; another member's job is not found."""
    job = get_object_or_404(ImportJob, pk=pk, owner=request.user).fail_if_abandoned()
    return JsonResponse(job.as_json())


@login_required
@require_GET
@never_cache
def latest(request: HttpRequest) -> JsonResponse:
    """The member's latest job, so that a reloaded page picks up where it was."""
    job = ImportJob.objects.filter(owner=request.user).first()
    if job is None:
        return JsonResponse({"job": None})
    return JsonResponse({"job": job.fail_if_abandoned().as_json()})
