"""POST /api/attachments/: one file in, checked against every limit before a byte of it is stored.

The order is the cheap refusals first: who asks, the declared length, the member's quota, then the
body is read through a handler that stops at the size limit, then the type by content, then the
heavy work (decode and re-encode an image, extract a document's text), then storage. A failure at
any point leaves nothing behind: no row, no file.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db.models import Sum
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from chat.attachments import cleanup, documents, images
from chat.attachments.refusals import Refused, refusal
from chat.attachments.serving import describe
from chat.attachments.sniff import sniff
from chat.models import Attachment

# What a multipart body holds besides the file: boundaries, headers, the CSRF field. Generous.
MULTIPART_MARGIN = 64 * 1024
NAME_LIMIT = Attachment._meta.get_field("name").max_length
# Processing a 12 MP photo peaks near 90 MB (docs/performance.md): two at a time bound a process. A
# heavy image (images.heavy: a big PNG peaks near 850 MB) takes both slots, so it is processed alone.
SLOTS = 2
_processing = threading.BoundedSemaphore(SLOTS)
_taking_all = threading.Lock()  # one thread at a time gathers every slot: none waits holding some


class SizeLimitHandler(FileUploadHandler):
    """Counts the file's bytes as they arrive and stops reading at the limit; notes a second file."""

    def __init__(self, request=None, limit: int = 0) -> None:
        super().__init__(request)
        self.limit, self.files, self.too_large, self.too_many = limit, 0, False, False

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.files += 1
        if self.files > 1:
            self.too_many = True
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)  # the rest is never read, never written to disk
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def too_large() -> Refused:
    limit = filesizeformat(settings.TOKENOFF_ATTACHMENT_MAX_BYTES)
    return Refused(413, "too_large", _("This file is too large: %(limit)s at most.") % {"limit": limit})


def over_quota() -> Refused:
    quota = filesizeformat(settings.TOKENOFF_ATTACHMENT_QUOTA_BYTES)
    return Refused(
        413,
        "quota_exceeded",
        _(
            "This file would take your attachments past %(quota)s, all you may store. "
            "Delete conversations with files to make room."
        )
        % {"quota": quota},
    )


def bad_request(message: str) -> Refused:
    return Refused(400, "bad_request", message)


@csrf_exempt  # checked by csrf_protect below: the check reads the form, so the limiter must be in first
@require_POST
def upload(request: HttpRequest) -> JsonResponse:
    """Refusals that need no body come first; then the body, read with the size limit in force."""
    if not request.user.is_authenticated:
        return refusal(401, "not_signed_in", _("Sign in to attach files."))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.TOKENOFF_ATTACHMENT_MAX_BYTES + MULTIPART_MARGIN:
        return too_large().response()
    cleanup.sweep_orphans(timezone.now(), owner=request.user)  # the member's own, before counting
    if stored_total(request.user) >= settings.TOKENOFF_ATTACHMENT_QUOTA_BYTES:
        return over_quota().response()
    limiter = SizeLimitHandler(request, settings.TOKENOFF_ATTACHMENT_MAX_BYTES)
    request.upload_handlers = [limiter, *request.upload_handlers]
    try:
        request.FILES  # noqa: B018 (parsed here, through the limiter, so that a broken body is our 400)
    except (MultiPartParserError, SuspiciousOperation):
        return bad_request(_("The upload is not a well-formed multipart form.")).response()
    return _checked_upload(request, limiter)


@csrf_protect
def _checked_upload(request: HttpRequest, limiter: SizeLimitHandler) -> JsonResponse:
    try:
        uploaded = _the_file(request, limiter)
        attachment = receive(request.user, uploaded)
    except Refused as refused:
        return refused.response()
    return JsonResponse(describe(attachment), status=201)


def _the_file(request: HttpRequest, limiter: SizeLimitHandler) -> UploadedFile:
    files = request.FILES
    if limiter.too_large:
        raise too_large()
    if limiter.too_many or sum(len(values) for _field, values in files.lists()) > 1:
        raise bad_request(_("Send one file at a time."))
    uploaded = files.get("file")
    if uploaded is None:
        raise bad_request(_("No file was sent: send it in the field named file."))
    if not uploaded.size:
        raise bad_request(_("This file is empty."))
    return uploaded


def display_name(raw: str) -> str:
    """The name as the member knows it: the last path part, no control characters, 255 at most."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    name = " ".join(name.split())
    if len(name) > NAME_LIMIT:
        _stem, dot, extension = name.rpartition(".")
        keep = extension if dot and len(extension) <= 16 else ""
        name = (name[: NAME_LIMIT - len(keep) - 1] + "." + keep) if keep else name[:NAME_LIMIT]
    return name or _("file")


def stored_total(user) -> int:
    return Attachment.objects.filter(owner=user).aggregate(total=Sum("size"))["total"] or 0


def receive(user, uploaded: UploadedFile) -> Attachment:
    """Check, process and store one uploaded file for user; Refused on any limit, nothing then stored."""
    if uploaded.size > settings.TOKENOFF_ATTACHMENT_MAX_BYTES:
        raise too_large()
    if stored_total(user) + uploaded.size > settings.TOKENOFF_ATTACHMENT_QUOTA_BYTES:
        raise over_quota()
    found = sniff(uploaded)
    attachment = Attachment(
        owner=user,
        name=display_name(uploaded.name or ""),
        kind=found.kind,
        content_type=found.content_type,
        uploaded_size=uploaded.size,
    )
    files: list[tuple[str, str, object]] = []  # (field, stored file name, content)
    with _turn(found.kind == Attachment.Kind.IMAGE and images.heavy(uploaded, found)):
        if found.kind == Attachment.Kind.IMAGE:
            picture = images.process(uploaded, found)
            attachment.content_type, attachment.tokens = picture.content_type, picture.tokens
            attachment.width, attachment.height = picture.width, picture.height
            files.append(("file", f"image.{picture.extension}", ContentFile(picture.content)))
            files.append(("thumbnail", "thumbnail.webp", ContentFile(picture.thumbnail)))
        else:
            text = documents.extract(uploaded, found)
            attachment.pages, attachment.tokens = text.pages, text.tokens
            uploaded.seek(0)
            files.append(("file", f"document.{found.extension}", uploaded))
            files.append(("text", "text.txt", ContentFile(text.text.encode("utf-8"))))
    attachment.size = sum(content.size for _field, _name, content in files)
    if stored_total(user) + attachment.size > settings.TOKENOFF_ATTACHMENT_QUOTA_BYTES:
        raise over_quota()
    _store(attachment, files)
    return attachment


@contextmanager
def _turn(heavy: bool) -> Iterator[None]:
    """A processing slot; every slot for a heavy image."""
    slots = SLOTS if heavy else 1
    with _taking_all if heavy else nullcontext():
        for _slot in range(slots):
            _processing.acquire()
    try:
        yield
    finally:
        for _slot in range(slots):
            _processing.release()


def _store(attachment: Attachment, files: list[tuple[str, str, object]]) -> None:
    """Write the files, then the row; if anything fails, the files written are removed."""
    written = []
    try:
        for field, name, content in files:
            getattr(attachment, field).save(name, content, save=False)
            written.append(getattr(attachment, field).name)
        attachment.save(force_insert=True)
    except BaseException:
        storage = attachment.file.storage
        for name in written:
            storage.delete(name)
        raise
