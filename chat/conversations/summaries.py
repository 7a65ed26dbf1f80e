"""`/c/<id>/context/`: where the context sent upstream starts, and "Summarise earlier messages".

GET: `{"context_start", "left_out", "summary"}` — the id of the first message after the first exchange
that is sent when something before it is not (null: the whole branch is sent), how many messages the
cut leaves out that no summary covers, and the summary sent in their place (`id`, `content`, `covered`,
`until`; null: none). POST (the session and the CSRF token): a blocking call writes a summary of the
messages left out (and of the summary before it, if any), saved as its own row: from then on it goes
upstream in their place (chat/conversations/context.py); the originals stay in the history, exports
and review. Answers with the new state. The summary is written by the title model and counted in
usage like a title request. docs/protocol.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from chat.conversations.context import Fitted
from chat.models import ApiKey, Conversation, Message
from chat.models.conversations import Summary
from chat.upstream import client as upstream
from chat.usage import accounting as usage

SUMMARY_TOKENS = 600
SUMMARY_PROMPT = (
    "Summarise the part of a conversation below, so that it can be continued without it: the facts, "
    "decisions, names, numbers and open questions, in the conversation's language, in at most 300 words. "
    "Answer with the summary only."
)
SPEAKERS = {Message.Role.USER: "User", Message.Role.ASSISTANT: "Assistant"}


def state(fitted: Fitted) -> dict:
    return {
        "context_start": fitted.context_start,
        "left_out": len(fitted.left_out),
        "summary": fitted.summary,
    }


def transcript(fitted: Fitted) -> str:
    """The messages to summarise as text: the summary before them first, if any."""
    parts = [f"Summary of what came before:\n{fitted.summary['content']}"] if fitted.summary else []
    parts += [f"{SPEAKERS.get(row['role'], row['role'])}: {row['content']}" for row in fitted.left_out]
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Asked:
    """A summary request allowed: what goes upstream, with which key, counted how."""

    key: ApiKey | None
    via_team_key: bool
    messages: list[dict]
    request: usage.TitleRequest


def ask(user, fitted: Fitted) -> Asked | JsonResponse:
    key = ApiKey.objects.for_user(user)
    if key is None and not settings.TOKENOFF_DEMO:
        return JsonResponse({"error": "No TokenOff API key is set for you or for the team."}, status=409)
    messages = [
        {"role": Message.Role.SYSTEM.value, "content": SUMMARY_PROMPT},
        {"role": Message.Role.USER.value, "content": transcript(fitted)},
    ]
    via_team_key = key is not None and key.is_team
    request = usage.title_request(user.pk, via_team_key, messages, SUMMARY_TOKENS)
    if request is None:
        words = f"Summaries are written by {settings.TOKENOFF_TITLE_MODEL}: it is not available to you now."
        return JsonResponse({"error": words}, status=409)
    return Asked(key, via_team_key, messages, request)


def save(conversation: Conversation, fitted: Fitted, model: str, text: str) -> dict:
    covered = (fitted.summary["covered"] if fitted.summary else 0) + len(fitted.left_out)
    until = fitted.left_out[-1]["id"]
    Summary.objects.create(
        conversation=conversation, until_id=until, content=text, covered=covered, model=model
    )
    return state(conversation.fitted_context())


def load(user, pk: int) -> tuple[Conversation, Fitted, bool]:
    conversation = get_object_or_404(Conversation.objects.owned_by(user), pk=pk)
    busy = conversation.messages.filter(status=Message.Status.STREAMING).exists()
    return conversation, conversation.fitted_context(), busy


async def summarise(user, conversation: Conversation, fitted: Fitted) -> JsonResponse:
    """The blocking call on the server's own event loop and its client, as a title's."""
    asked = await sync_to_async(ask)(user, fitted)
    if isinstance(asked, JsonResponse):
        return asked
    answer = None
    try:
        answer = await upstream.complete(asked.key, asked.request.model, asked.messages, SUMMARY_TOKENS)
    except upstream.UpstreamError as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=502)
    finally:
        reported, text = (answer.usage, answer.text) if answer else (None, None)
        settle = sync_to_async(usage.settle_title)
        await settle(user.pk, asked.via_team_key, asked.request, asked.messages, reported, text)
    if not answer.text.strip():
        return JsonResponse({"error": "The model wrote an empty summary. Try again."}, status=502)
    return JsonResponse(
        await sync_to_async(save)(conversation, fitted, asked.request.model, answer.text.strip())
    )


@login_required
@require_http_methods(["GET", "POST"])
async def context(request: HttpRequest, pk: int) -> JsonResponse:
    user = await request.auser()
    conversation, fitted, busy = await sync_to_async(load)(user, pk)
    if request.method == "GET":
        return JsonResponse(state(fitted))
    if busy:
        return JsonResponse({"error": "Wait for the reply to finish before summarising."}, status=409)
    if not fitted.left_out:
        return JsonResponse({"error": "Every message is sent: there is nothing to summarise."}, status=400)
    return await summarise(user, conversation, fitted)
