"""GET /api/attachments/<id>/ (and its thumbnail): the file to its owner only, never runnable on our origin.

Whoever else asks (another member, someone signed out, an id that names nothing) gets the same 404,
decided before anything is read. An uploaded HTML page or SVG is served as plain text or as a
download, under a sandboxing CSP and nosniff, so that it never runs as the site.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.views.decorators.http import require_GET

from chat.attachments.sniff import DOCX, XLSX
from chat.models import Attachment

ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Types a browser shows or saves without running anything of ours: served as what they are.
SAFE_TYPES = {"image/jpeg", "image/png", "image/webp", "application/pdf", DOCX, XLSX}
SANDBOX = "default-src 'none'; sandbox"


def describe(attachment: Attachment) -> dict:
    """The contract's fields and what the page shows: where to fetch it and its thumbnail, its size."""
    return {
        **attachment.as_json(),
        "url": reverse("chat:attachment", args=[attachment.pk]),
        "thumbnail": reverse("chat:attachment_thumbnail", args=[attachment.pk])
        if attachment.thumbnail
        else None,
        "width": attachment.width,
        "height": attachment.height,
        "pages": attachment.pages,
        "content_type": attachment.content_type,
    }


def owned(request: HttpRequest, pk: str) -> Attachment:
    """The member's own attachment, or 404 for anyone else's, an odd id, or a deleted conversation's."""
    if not request.user.is_authenticated or not ID.match(pk):
        raise Http404
    # A conversation its owner deleted while flagged is gone for them, and so are its files.
    visible = Q(conversation__isnull=True) | Q(conversation__owner_deleted__isnull=True)
    attachment = Attachment.objects.filter(visible, pk=pk, owner=request.user).first()
    if attachment is None:
        raise Http404
    return attachment


def served_name(attachment: Attachment) -> str:
    """The member's name, ending as what is served: an iPhone's .HEIC comes back .jpg, a PDF named
    photo.jpg comes back photo.jpg.pdf (text keeps its name: .csv, .md, .py are all text)."""
    stored = PurePosixPath(attachment.file.name).suffix
    if attachment.kind == Attachment.Kind.IMAGE:
        stem = attachment.name.rsplit(".", 1)[0] if "." in attachment.name else attachment.name
        return stem + stored
    if stored != ".txt" and not attachment.name.lower().endswith(stored):
        return attachment.name + stored
    return attachment.name


def file_response(
    attachment: Attachment, which: str = "file", cache: str = "private, max-age=3600"
) -> FileResponse:
    """The stored file (or the thumbnail) with the headers that keep it inert."""
    stored: FieldFile = getattr(attachment, which)
    if not stored:
        raise Http404
    if which == "thumbnail":
        content_type, inline, name = "image/webp", True, "thumbnail.webp"
    else:
        content_type = attachment.content_type.split(";")[0]
        inline = attachment.kind == Attachment.Kind.IMAGE
        name = served_name(attachment)
        if content_type not in SAFE_TYPES:
            # HTML, SVG, code, CSV: shown as text whatever they hold, in the charset they were written in.
            content_type = "text/plain; " + (
                attachment.content_type.partition(";")[2].strip() or "charset=utf-8"
            )
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cache-Control"] = cache
    return response


@require_GET
def attachment_file(request: HttpRequest, pk: str) -> FileResponse:
    return file_response(owned(request, pk))


@require_GET
def attachment_thumbnail(request: HttpRequest, pk: str) -> FileResponse:
    return file_response(owned(request, pk), "thumbnail")
