"""A user's conversations as the sidebar sees them: pages, search, and what the owner does to one.

JSON views for the chat page's scripts (static/chat/). Every one goes through `owned`, so that another
user's conversation and a missing one answer the same 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Exists, Q
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from chat.conversations import branches
from chat.lib.keyset import Cursor
from chat.lib.params import has_nul, parse_id
from chat.models import Conversation, Message, Preferences
from chat.models.feedback import Feedback
from chat.review.search import search, snippets

PAGE_SIZE = 50
SEARCH_SIZE = 30
MAX_QUERY = 200
TITLE_LIMIT = Conversation._meta.get_field("title").max_length


def owned(request: HttpRequest, pk: int) -> Conversation:
    # Someone else's conversation and a missing one get the same 404.
    return get_object_or_404(Conversation.objects.owned_by(request.user), pk=pk)


def reachable(request: HttpRequest, pk: int, write: bool = False) -> Conversation:
    """One the member may read (or continue): their own, or one in a project shared with their group."""
    return get_object_or_404(Conversation.objects.reachable_by(request.user, write=write), pk=pk)


def row(conversation: Conversation) -> dict:
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "updated": conversation.updated.isoformat(),
        "pinned": conversation.pinned,
        "archived": conversation.archived,
        # "api" for a script's call to /api/v1/ (the sidebar marks it), with the name of its token.
        "source": conversation.source,
        "api_token_name": conversation.api_token_name,
    }


SIDEBAR_FIELDS = ("id", "title", "updated", "pinned", "archived", "source", "api_token_name")


def listed(user):
    """The owner's conversations in the sidebar: the API's left out if they chose so (search finds them)."""
    # In the same query (an uncorrelated EXISTS the database runs once): no query more for the page.
    hidden = Exists(Preferences.objects.filter(user=user, hide_api_conversations=True))
    return Conversation.objects.owned_by(user).filter(~Q(source="api") | ~hidden)


def pinned(user) -> list[Conversation]:
    """Pinned conversations, all on the first page (a person pins a handful)."""
    rows = listed(user).filter(archived=False, pinned=True).only(*SIDEBAR_FIELDS)
    return list(rows[:PAGE_SIZE])


def has_archived(user) -> bool:
    """Whether the sidebar offers the archive: one indexed EXISTS."""
    return Conversation.objects.owned_by(user).filter(archived=True).exists()


def page(
    user, *, archived: bool = False, after: Cursor | None = None
) -> tuple[list[Conversation], str | None]:
    """One page of the rest, by last activity, seeking the sidebar index from the cursor (no OFFSET)."""
    rows = listed(user).filter(archived=archived)
    if not archived:
        rows = rows.filter(pinned=False)
    if after is not None:
        rows = rows.filter(updated__lte=after.updated).filter(
            Q(updated__lt=after.updated) | Q(updated=after.updated, pk__lt=after.pk)
        )
    found = list(rows.only(*SIDEBAR_FIELDS).order_by("-updated", "-id")[: PAGE_SIZE + 1])
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    return found, str(Cursor(found[-1].updated, found[-1].pk)) if more else None


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> JsonResponse:
    """`?after=<cursor>` the next page; `?archived=1` the archived ones instead."""
    archived = request.GET.get("archived") == "1"
    found, after = page(request.user, archived=archived, after=Cursor.parse(request.GET.get("after")))
    return JsonResponse({"conversations": [row(c) for c in found], "after": after})


@login_required
@require_GET
def conversation_search(request: HttpRequest) -> JsonResponse:
    """Titles and message text, archived ones included, each hit with a snippet of the match."""
    text = request.GET.get("q", "").strip()[:MAX_QUERY]
    if has_nul(text):
        return JsonResponse({"error": "A search cannot hold a NUL character."}, status=400)
    if not text:
        return JsonResponse({"conversations": []})
    found = list(
        search(Conversation.objects.owned_by(request.user), text, owner=request.user)
        .only(*SIDEBAR_FIELDS)
        .order_by("-updated", "-id")[:SEARCH_SIZE]
    )
    cuts = snippets([c.pk for c in found], text)
    results = [{**row(c), "snippet": cuts.get(c.pk, [])} for c in found]
    return JsonResponse({"conversations": results})


def _flag(value: str | None) -> bool | None:
    return {"1": True, "true": True, "0": False, "false": False}.get((value or "").lower())


@login_required
@require_POST
def conversation_update(request: HttpRequest, pk: int) -> JsonResponse:
    """Rename, pin or archive: any of `title`, `pinned`, `archived` in the form."""
    conversation = owned(request, pk)
    changed = []
    if "title" in request.POST:
        title = " ".join(request.POST["title"].split())
        if not title:
            return JsonResponse({"error": "A title cannot be empty."}, status=400)
        if has_nul(title):
            return JsonResponse({"error": "A title cannot hold a NUL character."}, status=400)
        conversation.title = title[:TITLE_LIMIT]
        changed.append("title")
    for field in ("pinned", "archived"):
        if field in request.POST:
            value = _flag(request.POST[field])
            if value is None:
                return JsonResponse({"error": f"{field} is 1 or 0."}, status=400)
            setattr(conversation, field, value)
            changed.append(field)
    if not changed:
        return JsonResponse({"error": "Nothing to change: send title, pinned or archived."}, status=400)
    # Not `updated`: renaming or pinning is not activity, the conversation keeps its place.
    conversation.save(update_fields=changed)
    return JsonResponse(row(conversation))


@login_required
@require_POST
def conversation_delete(request: HttpRequest, pk: int) -> JsonResponse:
    """Delete for good: the page offers an undo by waiting a few seconds before it asks.

    While a reviewer's flag is open the conversation is only hidden from its owner (docs/review.md).
    """
    with transaction.atomic():
        # The lock that raising and resolving flags take too (chat.flags.locked_conversation).
        conversation = get_object_or_404(
            Conversation.objects.owned_by(request.user).select_for_update(), pk=pk
        )
        if conversation.messages.filter(status=Message.Status.STREAMING).exists():
            return JsonResponse({"error": "Stop the reply before deleting the conversation."}, status=409)
        if conversation.flags.open().exists():
            conversation.owner_deleted = timezone.now()
            conversation.save(update_fields=["owner_deleted"])
        else:
            conversation.delete()
    return JsonResponse({"deleted": pk})


def thread_state(conversation: Conversation, user) -> list[dict]:
    """The branch on show as the page reads it, a failed reply with its error's code and message."""
    rows = branches.as_state(conversation, user)
    failed = [row["id"] for row in rows if row["finish_reason"] == "error"]
    errors = {}
    if failed:  # one more query, only for a branch that holds a failed reply
        rows_of = Message.objects.filter(pk__in=failed).values_list("pk", "error_code", "error_message")
        errors = {pk: (code, message) for pk, code, message in rows_of}
    for row in rows:
        row["error_code"], row["error_message"] = errors.get(row["id"], ("", ""))
    return rows


@login_required
@require_GET
def thread(request: HttpRequest, pk: int) -> JsonResponse:
    """The branch on show, for a tab that saw another tab fork the conversation."""
    return JsonResponse({"messages": thread_state(reachable(request, pk), request.user)})


@login_required
@require_POST
def show_branch(request: HttpRequest, pk: int) -> JsonResponse:
    """Show the branch through `message` (one of a message's versions) and answer with it."""
    conversation = reachable(request, pk, write=True)  # a project's collaborators continue it too
    if conversation.messages.filter(status=Message.Status.STREAMING).exists():
        return JsonResponse({"error": "Wait for the reply to finish before switching versions."}, status=409)
    message = parse_id(request.POST.get("message"))
    if message is None or not branches.show(conversation, message):
        return JsonResponse({"error": "No such message in this conversation."}, status=404)
    return JsonResponse({"messages": thread_state(conversation, request.user)})


@login_required
@require_POST
def feedback(request: HttpRequest, pk: int) -> JsonResponse:
    """Thumbs up (1) or down (-1) on a finished reply of one's own, with an optional comment.

    0 takes it back.
    """
    rating = request.POST.get("rating", "")
    comment = request.POST.get("comment", "")
    if rating not in ("1", "-1", "0"):
        return JsonResponse({"error": "rating is 1, -1 or 0."}, status=400)
    if len(comment) > Feedback._meta.get_field("comment").max_length:
        return JsonResponse({"error": "A comment can hold at most 2,000 characters."}, status=400)
    if has_nul(comment):
        return JsonResponse({"error": "A comment cannot hold a NUL character."}, status=400)
    if rating == "0":
        taken = Feedback.objects.filter(
            message_id=pk,
            user=request.user,
            message__conversation__in=Conversation.objects.owned_by(request.user),
        ).delete()[0]
        if not taken and not _own_reply(request.user, pk):
            return JsonResponse({"error": "No such reply."}, status=404)
        return JsonResponse({"message": pk, "rating": 0, "comment": ""})
    try:
        given = Feedback.give(request.user, pk, int(rating), comment)
    except Message.DoesNotExist:
        return JsonResponse({"error": "No such reply."}, status=404)
    return JsonResponse({"message": pk, "rating": given.rating, "comment": given.comment})


def _own_reply(user, pk: int) -> bool:
    return Message.objects.filter(
        pk=pk, conversation__in=Conversation.objects.owned_by(user), role=Message.Role.ASSISTANT
    ).exists()
