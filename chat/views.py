"""The chat's pages: one view per action, each short."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from chat import exports
from chat.models import ChatModel, Conversation, Message, Preferences

SIDEBAR_SIZE = 50


def _page(request: HttpRequest, conversation: Conversation | None) -> HttpResponse:
    # Only what this user may use: the same rule refuses any other model in a send.
    models = list(ChatModel.objects.usable_by(request.user))
    preferences = Preferences.of(request.user)
    chosen = ChatModel.preferred(
        models, conversation.model if conversation else preferences.default_model_name
    )
    selected = chosen.name if chosen else ""
    system_prompt = conversation.system_prompt if conversation else preferences.system_prompt
    messages = list(conversation.messages.order_by("id")) if conversation else []
    state = {
        "conversation": conversation.pk if conversation else None,
        "title": conversation.title if conversation else "",
        "model": selected,
        "messages": [
            {
                "id": m.pk,
                "role": m.role,
                "content": m.content,
                "model": m.model,
                "served_model": m.served_model,
                "finish_reason": m.finish_reason,
                "usage": m.usage,
                "status": m.status,
            }
            for m in messages
        ],
        "ws_path": "/ws/chat/",
        "max_content": settings.TOKENOFF_MAX_CONTENT,
        "demo": settings.TOKENOFF_DEMO,
    }
    context = {
        "conversations": Conversation.objects.owned_by(request.user).only("id", "title", "updated")[
            :SIDEBAR_SIZE
        ],
        "conversation": conversation,
        "models": models,
        "selected_model": selected,
        "system_prompt": system_prompt,
        "chat_messages": messages,
        "initial_state": state,
    }
    return render(request, "chat/chat.html", context)


def _owned(request: HttpRequest, pk: int) -> Conversation:
    # Someone else's conversation and a missing one get the same 404.
    return get_object_or_404(Conversation.objects.owned_by(request.user), pk=pk)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@login_required
@require_GET
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _owned(request, pk))


@login_required
@require_GET
def export_json(request: HttpRequest, pk: int) -> JsonResponse:
    conv = _owned(request, pk)
    response = JsonResponse(exports.as_json(conv, _messages(conv)), json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="conversation-{conv.pk}.json"'
    return response


@login_required
@require_GET
def export_md(request: HttpRequest, pk: int) -> HttpResponse:
    conv = _owned(request, pk)
    response = HttpResponse(
        exports.as_markdown(conv, _messages(conv)), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="conversation-{conv.pk}.md"'
    return response


def _messages(conv: Conversation) -> list[Message]:
    return list(conv.messages.order_by("id"))
