"""The chat's pages: one view per action, each short."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from chat.conversations import api, exports, picker
from chat.lib.params import parse_id
from chat.models import ChatModel, Conversation, Message, Preferences, Project
from chat.models.budgets import month_start, next_month
from chat.projects import views as project_views


def _page(request: HttpRequest, conversation: Conversation | None) -> HttpResponse:
    # Only what this user may use: the same rule refuses any other model in a send.
    models = list(ChatModel.objects.usable_by(request.user))
    preferences = Preferences.of(request.user)
    chosen = ChatModel.preferred(
        models, conversation.model if conversation else preferences.default_model_name
    )
    selected = chosen.name if chosen else ""
    # The picker: the team's default, the member's recent models, then the families (picker.py).
    picker_groups = picker.groups(models, picker.recent_model_names(request.user))
    system_prompt = conversation.system_prompt if conversation else preferences.system_prompt
    messages = api.thread_state(conversation, request.user) if conversation else []
    recent, after = api.page(request.user)
    # Someone else's chat, reached through a project shared with one's group (Conversation.reachable_by).
    shared_role = (
        conversation.project.role_of(request.user)
        if conversation and conversation.owner_id != request.user.pk
        else None
    )
    new_in = _new_chat_project(request) if conversation is None else None
    state = {
        "conversation": conversation.pk if conversation else None,
        "title": conversation.title if conversation else "",
        "model": selected,
        "messages": messages,
        "ws_path": "/ws/chat/",
        "max_content": settings.TOKENOFF_MAX_CONTENT,
        "demo": settings.TOKENOFF_DEMO,
        "sidebar_after": after,
        "project": new_in.pk if new_in else None,  # a new chat started from a project: the send says so
        "read_only": shared_role == "reader",
    }
    context = {
        "pinned_conversations": api.pinned(request.user),
        "has_archived": api.has_archived(request.user),  # the sidebar's "Archived" only then
        "conversations": recent,
        "conversation": conversation,
        "models": models,
        "selected_model": selected,
        "picker_groups": picker_groups,
        "picker_data": picker.picker_data(picker_groups, models),
        "system_prompt": system_prompt,
        "chat_messages": messages,
        "initial_state": state,
        # When the monthly budgets start again (accounting.standing): the composer's notice says so.
        "budget_resets": next_month(month_start(timezone.now())),
        "projects": project_views.sidebar(request.user),
        "shared_role": shared_role,
        "new_in_project": new_in,
    }
    return render(request, "chat/chat.html", context)


def _new_chat_project(request: HttpRequest) -> Project | None:
    """`/?project=<id>`: a new chat in one of the projects the member may start chats in."""
    pk = parse_id(request.GET.get("project"))
    return Project.objects.writable_by(request.user).filter(pk=pk).first() if pk else None


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@login_required
@require_GET
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, api.reachable(request, pk))


@login_required
@require_GET
def export_json(request: HttpRequest, pk: int) -> JsonResponse:
    conv = api.reachable(request, pk)
    response = JsonResponse(exports.as_json(conv, _messages(conv)), json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="conversation-{conv.pk}.json"'
    return response


@login_required
@require_GET
def export_md(request: HttpRequest, pk: int) -> HttpResponse:
    conv = api.reachable(request, pk)
    response = HttpResponse(
        exports.as_markdown(conv, _messages(conv)), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="conversation-{conv.pk}.md"'
    return response


def _messages(conv: Conversation) -> list[Message]:
    return list(conv.messages.order_by("id"))
