"""Share links: the owner shares, updates and revokes (JSON for share.js); readers open /s/<token>/."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat.attachments.serving import ID, file_response
from chat.models import Attachment, Conversation, ShareLink, SiteSettings

LONGEST = dt.timedelta(days=366)  # an expiry further off than a year is a typo, not a plan
NO_STORE = "private, no-store"


class BadExpiry(ValueError):
    """The expiry date is not a date, is past, or is too far off."""


def parse_expiry(text: str) -> dt.datetime | None:
    """A date (YYYY-MM-DD) to the end of that day in the member's time zone; empty means never."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise BadExpiry(_("The expiry must be a date (YYYY-MM-DD).")) from exc
    today = timezone.localdate()
    if day < today:
        raise BadExpiry(_("The expiry date has passed."))
    if day - today > LONGEST:
        raise BadExpiry(_("The expiry can be at most a year from today."))
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def as_json(link: ShareLink | None) -> dict:
    if link is None:
        return {"url": None}
    return {
        "url": link.url,
        "expires": timezone.localdate(link.expires - dt.timedelta(seconds=1)).isoformat()
        if link.expires
        else None,
        "updated": link.updated.isoformat(),
        "include_attachments": link.include_attachments,
    }


def _owned(request: HttpRequest, pk: int) -> Conversation:
    # Someone else's conversation and a missing one get the same 404; only the owner shares (not a
    # project's collaborators), and one deleted while flagged is gone for them.
    mine = Conversation.objects.filter(owner=request.user, owner_deleted__isnull=True)
    return get_object_or_404(mine.select_related("owner"), pk=pk)


def _refused() -> JsonResponse:
    return JsonResponse({"error": _("Sharing by link is not allowed for you on this site.")}, status=403)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def share(request: HttpRequest, pk: int) -> JsonResponse:
    """GET: the conversation's live link, if any; POST: share it, or update the snapshot (same URL)."""
    conversation = _owned(request, pk)
    if not ShareLink.may_share(request.user):
        return _refused()
    link = ShareLink.objects.live().filter(conversation=conversation).first()
    if request.method == "GET":
        return JsonResponse({**as_json(link), "allowed": True})
    try:
        expires = parse_expiry(request.POST.get("expires", ""))
    except BadExpiry as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    include = request.POST.get("include_attachments", "") in ("1", "on", "true")
    link = ShareLink.share(request.user, conversation, include_attachments=include, expires=expires)
    return JsonResponse(as_json(link))


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> JsonResponse:
    """The conversation's link answers 404 from now on, on every process (nothing is cached)."""
    conversation = _owned(request, pk)
    revoked = 0
    for link in ShareLink.objects.filter(conversation=conversation, revoked__isnull=True):
        revoked += link.revoke(request.user)
    return JsonResponse({"revoked": revoked})


def _served(token: str) -> ShareLink:
    link = ShareLink.objects.served(token)
    if link is None:
        raise Http404(_("No such share link."))
    return link


def _public_or_login(request: HttpRequest) -> HttpResponse | None:
    """None when the visitor may read: a signed-in member, or anyone while public links are on."""
    if request.user.is_authenticated or SiteSettings.current().public_share_links:
        return None
    return redirect_to_login(request.get_full_path())


@never_cache
@require_GET
def snapshot(request: HttpRequest, token: str) -> HttpResponse:
    """The read-only snapshot: no composer, the owner's words as they were when shared or updated."""
    # An unknown token is a 404 before anything else, signed in or not: the log-in page tells nothing.
    link = _served(token)
    login = _public_or_login(request)
    if login is not None:
        return login
    link.note_view(request.user)
    messages = link.snapshot.get("messages", [])
    context = {
        "link": link,
        "title": link.snapshot.get("title", ""),
        "chat_messages": [{"index": i, **m} for i, m in enumerate(messages)],
        "rendered": [
            {"id": i, "content": m["content"]} for i, m in enumerate(messages) if m["role"] == "assistant"
        ],
        "anonymous": not request.user.is_authenticated,
    }
    response = render(request, "sharing/snapshot.html", context)
    response["X-Robots-Tag"] = "noindex"  # members' words: never in a search engine, public or not
    return response


def _shared_attachment(request: HttpRequest, token: str, pk: str) -> Attachment:
    link = _served(token)
    if _public_or_login(request) is not None or not ID.match(pk) or pk not in link.attachment_ids():
        raise Http404
    return get_object_or_404(Attachment, pk=pk, conversation=link.conversation_id)


@require_GET
def attachment_file(request: HttpRequest, token: str, pk: str) -> FileResponse:
    response = file_response(_shared_attachment(request, token, pk), cache=NO_STORE)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def attachment_thumbnail(request: HttpRequest, token: str, pk: str) -> FileResponse:
    response = file_response(_shared_attachment(request, token, pk), "thumbnail", cache=NO_STORE)
    response["X-Robots-Tag"] = "noindex"
    return response
