"""The assistants gallery: one's own and those shared with one; create, edit, history, roll back, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat.assistants.forms import AssistantForm
from chat.models import Assistant, ChatModel

PUBLISH = "chat.publish_assistant"


def _own(request: HttpRequest, pk: int) -> Assistant:
    # Another member's assistant answers as a missing one, shared or not: only its owner edits it.
    assistant = Assistant.objects.filter(pk=pk, owner=request.user).first()
    if assistant is None:
        raise Http404(_("No such assistant."))
    return assistant


def _sections(user) -> list[tuple[str, list[Assistant]]]:
    """Mine, then my groups', then the team's; each assistant once, where it is closest to me."""
    visible = list(Assistant.objects.visible_to(user).select_related("owner").prefetch_related("groups"))
    enabled = set(ChatModel.objects.filter(enabled=True).values_list("name", flat=True))
    for assistant in visible:
        assistant.model_missing = assistant.model not in enabled
    mine = [a for a in visible if a.owner_id == user.pk]
    groups = [a for a in visible if a.owner_id != user.pk and a.visibility == Assistant.Visibility.GROUPS]
    team = [a for a in visible if a.owner_id != user.pk and a.visibility == Assistant.Visibility.TEAM]
    return [(_("Mine"), mine), (_("My groups'"), groups), (_("The team's"), team)]


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    context = {"sections": _sections(request.user), "can_publish": request.user.has_perm(PUBLISH)}
    return render(request, "chat/assistants/gallery.html", context)


@login_required
@require_GET
def picker_list(request: HttpRequest) -> JsonResponse:
    """What the composer's picker offers: the assistants the member may start a chat from."""
    rows = Assistant.objects.visible_to(request.user).filter(retired=False).select_related("owner")
    items = [
        {
            "id": a.pk,
            "name": a.name,
            "icon": a.icon,
            "model": a.model,
            "mine": a.owner_id == request.user.pk,
            "owner": a.owner.get_username(),
        }
        for a in rows
    ]
    return JsonResponse({"assistants": items})


def _form_page(request: HttpRequest, form: AssistantForm, assistant: Assistant | None, status: int = 200):
    context = {"form": form, "assistant": assistant, "can_publish": request.user.has_perm(PUBLISH)}
    return render(request, "chat/assistants/form.html", context, status=status)


def _saved(request: HttpRequest, form: AssistantForm, assistant: Assistant | None) -> HttpResponse:
    """Check, refuse sharing without publish_assistant (the page only hides it), save a version."""
    if not form.is_valid():
        return _form_page(request, form, assistant, status=400)
    if form.shares() and not request.user.has_perm(PUBLISH):
        form.add_error("visibility", _("You may not share assistants: ask an admin for the permission."))
        return _form_page(request, form, assistant, status=403)
    assistant = form.save(assistant or Assistant(owner=request.user))
    messages.success(
        request,
        _("Saved “%(name)s” as version %(number)s.") % {"name": assistant.name, "number": assistant.version},
    )
    return redirect("chat:assistants")


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _saved(request, AssistantForm(request.POST, user=request.user), None)
    return _form_page(request, AssistantForm(user=request.user, initial={"visibility": "personal"}), None)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    assistant = _own(request, pk)
    if request.method == "POST":
        return _saved(request, AssistantForm(request.POST, user=request.user, instance=assistant), assistant)
    return _form_page(request, AssistantForm(user=request.user, instance=assistant), assistant)


@login_required
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    assistant = _own(request, pk)
    versions = assistant.versions.select_related("author")
    return render(request, "chat/assistants/history.html", {"assistant": assistant, "versions": versions})


@login_required
@require_POST
def roll_back(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    assistant = _own(request, pk)
    old = assistant.versions.filter(number=number).first()
    if old is None:
        raise Http404(_("No such version."))
    # Rolling back to a shared version shares again: the same permission as the form.
    if old.snapshot.get("visibility", "personal") != "personal" and not request.user.has_perm(PUBLISH):
        return HttpResponse(_("You may not share assistants."), status=403, content_type="text/plain")
    assistant.roll_back(number, request.user)
    messages.success(
        request,
        _("Rolled back to version %(old)s as version %(new)s.") % {"old": number, "new": assistant.version},
    )
    return redirect("chat:assistant_history", pk=assistant.pk)


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    assistant = _own(request, pk)
    name = assistant.name
    assistant.delete()  # its conversations keep its name (Conversation.assistant_name)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": name})
    return redirect("chat:assistants")
