"""`POST /c/count.json`: what the next send would cost, for the meter under the composer.

The branch on show as it would go upstream (the system prompt first: Conversation.upstream_messages,
the function a send uses), then the draft as the new question, counted as the upstream counts it
(chat/upstream/tokens.py), against the model's context window, with the input's cost at the model's
price. Fields (a form, with the session and the CSRF token): `conversation` (an id, or empty for a
new chat), `model` (empty: the conversation's, else the member's default), `draft`, and for a new
chat `system_prompt` (absent: the member's default, as a send takes it). docs/protocol.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from chat.conversations.api import reachable
from chat.lib.params import has_nul, parse_id
from chat.models import ChatModel, Message, Preferences
from chat.upstream import tokens

MILLION = Decimal(1_000_000)
MODEL_NAME_LIMIT = ChatModel._meta.get_field("name").max_length


class BadInput(Exception):
    pass


def _text(request: HttpRequest, field: str, words: str) -> str | None:
    value = request.POST.get(field)
    if value is None:
        return None
    if has_nul(value):
        raise BadInput(f"{words} cannot hold a NUL character.")
    if len(value) > settings.TOKENOFF_MAX_CONTENT:
        raise BadInput(f"{words} can hold at most {settings.TOKENOFF_MAX_CONTENT:,} characters.")
    return value


def input_cost(model: ChatModel, prompt_tokens: int) -> dict | None:
    """The input's cost at the model's price per million tokens; None when it has no input price."""
    if model.input_price is None:
        return None
    amount = (prompt_tokens * model.input_price / MILLION).quantize(Decimal("0.000001"))
    return {"amount": f"{amount:f}", "currency": settings.TOKENOFF_CURRENCY}


def measure(model: ChatModel, messages: list[dict]) -> dict:
    counted = tokens.count_messages(messages, model.name)
    window = model.context_window
    return {
        "model": model.name,
        "tokens": counted.tokens,
        "window": window,
        "fits": window is None or counted.tokens < window,
        "reply_room": None if window is None else max(0, window - counted.tokens),
        "exact": counted.exact,
        "encoding": counted.encoding,
        "cost": input_cost(model, counted.tokens),
    }


@login_required
@require_POST
def count(request: HttpRequest) -> JsonResponse:
    raw_id = request.POST.get("conversation", "")
    conversation_id = parse_id(raw_id) if raw_id else None
    if raw_id and conversation_id is None:
        return JsonResponse({"error": "conversation is an id, or empty for a new chat."}, status=400)
    conversation = reachable(request, conversation_id, write=True) if conversation_id is not None else None
    try:
        draft = _text(request, "draft", "A message") or ""
        system_prompt = _text(request, "system_prompt", "A system prompt")
        name = _text(request, "model", "A model name") or ""
    except BadInput as bad:
        return JsonResponse({"error": str(bad)}, status=400)
    if conversation is not None and system_prompt is not None:
        return JsonResponse({"error": "system_prompt is for a new chat only."}, status=400)
    if len(name) > MODEL_NAME_LIMIT:
        return JsonResponse({"error": "No such model is available to you."}, status=400)
    model = ChatModel.for_send(request.user, name or (conversation.model if conversation else None))
    if model is None:
        return JsonResponse({"error": "No such model is available to you."}, status=400)
    if conversation is not None:
        messages = conversation.upstream_messages()
    else:
        if system_prompt is None:
            system_prompt = Preferences.of(request.user).system_prompt
        messages = [{"role": Message.Role.SYSTEM.value, "content": system_prompt}] if system_prompt else []
    messages.append({"role": Message.Role.USER.value, "content": draft})
    return JsonResponse(measure(model, messages))
