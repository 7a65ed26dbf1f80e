"""Conversation review for holders of chat.review_conversation: list, transcript, flags, export; audited."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chat.conversations import branches
from chat.lib.keyset import Cursor
from chat.lib.params import parse_id
from chat.models import Conversation, Message, MessageAttachment, audit
from chat.models.audit import AuditEntry
from chat.models.feedback import Feedback
from chat.models.flags import Flag, locked_conversation, released
from chat.review import exports
from chat.review.policy import can_review, review_enabled
from chat.review.search import Page, ReviewFilters, TooSlow, matching, page_of, snippets, time_limit

Action = AuditEntry.Action
PAGE_LINKS = ("after", "before")
FLAGS_PER_PAGE = 50


class FlagForm(forms.ModelForm):
    class Meta:
        model = Flag
        fields = ["note"]
        widgets = {
            "note": forms.Textarea(
                attrs={"rows": 3, "placeholder": gettext_lazy("Why does this need attention?")}
            )
        }


def reviewer_required(view):
    """Only holders of the permission get past; nobody else learns whether a conversation exists."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not review_enabled():
            raise Http404(_("Review is off on this site."))
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_review(request.user):
            return render(request, "review/denied.html", status=403)
        return view(request, *args, **kwargs)

    # Transcripts are other people's words: never kept by the browser or a proxy.
    return never_cache(wrapped)


def _list_query(params: QueryDict, **changes: str | None) -> str:
    """The list's query string with some filters changed (None removes one), page links dropped."""
    query = params.copy()
    for key in PAGE_LINKS:
        query.pop(key, None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    return query.urlencode()


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    # A path of this site only: a bare word would be taken for a URL name by redirect().
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return fallback


def _shortcuts(params: QueryDict) -> list[dict]:
    """One-click filters: a date range, thumbs down, failures, flags; a second click clears one."""
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    ranges = [
        (_("Today"), today, today),
        (_("Yesterday"), yesterday, yesterday),
        (_("Last 7 days"), today - dt.timedelta(days=6), today),
        (_("Last 30 days"), today - dt.timedelta(days=29), today),
    ]
    chips = []
    for label, since, until in ranges:
        active = params.get("since") == since.isoformat() and params.get("until") == until.isoformat()
        query = _list_query(
            params, since=None if active else since.isoformat(), until=None if active else until.isoformat()
        )
        chips.append({"label": label, "query": query, "active": active})
    for label, key, value in [
        (_("Thumbs down"), "feedback", "down"),
        (_("Errors"), "outcome", "error"),
        (_("Flagged"), "flagged", "on"),
    ]:
        active = params.get(key) == value
        query = _list_query(params, **{key: None if active else value})
        chips.append({"label": label, "query": query, "active": active})
    return chips


def _nav(request: HttpRequest, current: str) -> dict:
    user = request.user
    return {
        "review_section": current,
        "open_flags": Flag.objects.open().count(),
        "can_read_trail": user.is_staff and user.has_perm("chat.view_auditentry"),
    }


@reviewer_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    form = ReviewFilters(request.GET)
    page, found, too_slow = None, {}, False
    if form.is_valid():
        data = form.cleaned_data
        # A link that is not one of ours (a bad cursor) is ignored: the first page is served.
        after, before = Cursor.parse(request.GET.get("after")), Cursor.parse(request.GET.get("before"))
        link = _page_link(after, before)
        try:
            page, found, link = _find(data, after, before)
        except TooSlow:
            too_slow = True
        if data["q"]:
            # Every page of results a search serves is a reading of people's words: recorded with
            # the page that was served, not with the cursor that was asked for.
            audit.record(request.user, Action.SEARCH, detail=_list_query(request.GET, **link))
    rows = [{"conversation": c, "snippet": found.get(c.pk, [])} for c in page.conversations] if page else []
    context = {
        "form": form,
        "page": page,
        "too_slow": too_slow,
        "rows": rows,
        "user_options": form.user_options(),
        "model_options": form.model_options(),
        "shortcuts": _shortcuts(request.GET),
        "filter_query": _list_query(request.GET),
        "here": request.get_full_path(),
        "back": urlencode({"back": request.GET.urlencode()}),
        "export_limit": settings.TOKENOFF_REVIEW_EXPORT_LIMIT,
        "filtered": any(request.GET.get(name) for name in form.fields),
        **_nav(request, "list"),
    }
    return render(request, "review/list.html", context)


def _page_link(after: Cursor | None, before: Cursor | None) -> dict[str, str]:
    """The page a list shows, as its query parameter: none for the first page; before wins, as in page_of."""
    if before:
        return {"before": str(before)}
    return {"after": str(after)} if after else {}


def _find(data: dict, after: Cursor | None, before: Cursor | None) -> tuple[Page, dict, dict[str, str]]:
    """The page the filters and cursors select, its search snippets, and the link of the page served."""
    conversations = matching(data)
    with time_limit():
        page = page_of(conversations, after=after, before=before)
        if before and not page.conversations:
            # The rows ahead of that link are gone: start again.
            page, after, before = page_of(conversations), None, None
        return page, snippets([c.pk for c in page.conversations], data["q"]), _page_link(after, before)


def _transcript(request: HttpRequest, conversation: Conversation, form: FlagForm, status: int = 200):
    """Every showing of a transcript is an opening, and is recorded."""
    audit.record(request.user, Action.VIEW, conversation)
    # Shown again after a refused flag, the page's own address is the one the form came from.
    here = request.get_full_path()
    if request.method == "POST":
        here = _safe_next(request, reverse("review:transcript", args=[conversation.pk]))
    # The list position to return to, re-encoded so that only a query string comes through.
    back = QueryDict(QueryDict(urlsplit(here).query).get("back", "")).urlencode()
    chat_messages = list(
        conversation.messages.order_by("id").prefetch_related(
            Prefetch("feedback", queryset=Feedback.objects.order_by("id")),
            # A question's attachments, listed under it with the review routes' links: one query.
            Prefetch("attachment_links", queryset=MessageAttachment.objects.select_related("attachment")),
        )
    )
    _mark_versions(conversation, chat_messages)
    context = {
        "conversation": conversation,
        "chat_messages": chat_messages,
        "rendered": [
            {"id": m.pk, "content": m.content} for m in chat_messages if m.role == Message.Role.ASSISTANT
        ],
        "flags": list(conversation.flags.select_related("created_by", "resolved_by")),
        "flag_form": form,
        "back_url": reverse("review:list") + (f"?{back}" if back else ""),
        "here": here,
        "reviewing": True,
        **_nav(request, "transcript"),
    }
    return render(request, "review/transcript.html", context, status=status)


def _mark_versions(conversation: Conversation, chat_messages: list[Message]) -> None:
    """The transcript shows every version; say which ones an edit or a regeneration replaced."""
    on_show = {m.pk for m in branches.branch(conversation, chat_messages)}
    versions = branches.versions(chat_messages)
    for m in chat_messages:
        m.replaced = m.pk not in on_show
        siblings = versions.get(m.pk)
        m.version = (siblings.index(m.pk) + 1, len(siblings)) if siblings else None


def _conversation(pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.select_related("owner"), pk=pk)


@reviewer_required
@require_GET
def transcript(request: HttpRequest, pk: int) -> HttpResponse:
    return _transcript(request, _conversation(pk), FlagForm())


@reviewer_required
@require_POST
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(pk)
    form = FlagForm(request.POST)
    if not form.is_valid():
        return _transcript(request, conversation, form, status=400)  # the note typed is kept
    with transaction.atomic():
        conversation = locked_conversation(pk)
        if conversation is None:
            raise Http404  # deleted since the page was shown
        Flag.raise_on(conversation, request.user, form.cleaned_data["note"])
        audit.record(request.user, Action.FLAG, conversation, detail=form.cleaned_data["note"])
    messages.success(request, _("Flagged. It is listed under Flagged until someone resolves it."))
    return redirect(_safe_next(request, reverse("review:transcript", args=[pk])))


@reviewer_required
@require_POST
def resolve_flag(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(Flag, pk=pk)
    transcript = reverse("review:transcript", args=[flag.conversation_id])
    target = _safe_next(request, transcript)
    with transaction.atomic():
        conversation = locked_conversation(flag.conversation_id)
        flag = conversation.flags.open().filter(pk=pk).first() if conversation else None
        if flag is None:
            return redirect(target)  # resolved meanwhile
        flag.resolve(request.user)
        audit.record(request.user, Action.RESOLVE, conversation, detail=f"flag #{flag.pk}: {flag.note}")
        gone = released(conversation)
        if gone:
            # The owner's delete, held back by the flags, happens now; the trail keeps its names.
            when = f"{conversation.owner_deleted:%Y-%m-%d %H:%M} UTC"
            detail = f"deleted by its owner on {when}, kept until its flags were resolved"
            audit.record(request.user, Action.PURGE, conversation, detail=detail)
            conversation.delete()
    if not gone:
        messages.success(request, _("Flag resolved."))
        return redirect(target)
    messages.success(
        request, _("Flag resolved. Its owner had deleted the conversation, so it is now deleted.")
    )
    return redirect(reverse("review:flags") if urlsplit(target).path == transcript else target)


@reviewer_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    state = "resolved" if request.GET.get("state") == "resolved" else "open"
    flags = Flag.objects.resolved() if state == "resolved" else Flag.objects.open()
    flags = flags.select_related("conversation__owner", "created_by", "resolved_by")
    page = Paginator(flags, FLAGS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"state": state, "flags": page, "here": request.get_full_path(), **_nav(request, "flags")}
    return render(request, "review/flags.html", context)


@reviewer_required
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    back = _safe_next(request, reverse("review:list"))
    raw = request.POST.getlist("ids")
    ids = sorted({parse_id(value) for value in raw} - {None})
    tampered = len(ids) != len(set(raw))
    kind = request.POST.get("format")
    limit = settings.TOKENOFF_REVIEW_EXPORT_LIMIT
    if kind not in ("json", "md"):
        messages.error(request, _("Choose JSON or Markdown for the export."))
    elif not ids or tampered:
        messages.error(request, _("Tick the conversations to export first."))
    elif len(ids) > limit:
        messages.error(
            request,
            _("One export holds at most %(limit)s conversations, not %(count)s.")
            % {"limit": intcomma(limit), "count": intcomma(len(ids))},
        )
    else:
        loaded = exports.load(ids)
        if loaded:
            return _export_response(request, loaded, kind)
        messages.error(request, _("Those conversations no longer exist."))
    return redirect(back)


def _export_response(request: HttpRequest, loaded: list, kind: str) -> HttpResponse:
    conversations = [conversation for conversation, _ in loaded]
    detail = f"{kind}, {len(loaded)} conversation(s)"
    audit.record_many(request.user, Action.EXPORT, conversations, detail=detail)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if kind == "json":
        body = exports.as_json(loaded, request.user.get_username())
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="review-export-{stamp}.json"'
    else:
        response = HttpResponse(exports.as_markdown_zip(loaded), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="review-export-{stamp}.zip"'
    return response
