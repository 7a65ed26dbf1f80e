"""/api/v1/: GET models and POST chat/completions for scripts with a personal token (no session, no CSRF)."""

from __future__ import annotations

import asyncio
import contextvars

from channels.db import database_sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from chat.api import access, completions, relay
from chat.api.errors import ApiError


def _refusing(view):
    """Answer an ApiError in OpenAI's shape, and a wrong method too (the SDK reads the JSON either way)."""

    async def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return await view(request, *args, **kwargs)
        except ApiError as refused:
            return refused.response()

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


def _method(request: HttpRequest, allowed: str) -> None:
    if request.method != allowed:
        raise ApiError(405, "method_not_allowed", f"Use {allowed} here.")


@database_sync_to_async
def _models_of(header: str) -> list[dict]:
    user = access.authenticate(header).owner
    return [
        {"id": model.name, "object": "model", "created": 0, "owned_by": "tokenoff"}
        for model in access.usable_models(user)
    ]


def _detached(coroutine):
    """Run outside the request's context, so that its database steps go to the process's database thread
    as the chat's do: in the request's context they would run on the sync middlewares' thread of this one
    request, and a hundred requests at once would contend for SQLite's write lock (seconds, not ms)."""
    return asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())


async def _admit_and_start(header: str, raw: bytes):
    admitted = await database_sync_to_async(access.admit)(header, raw)
    started, begun = await relay.start(admitted)
    return admitted, started, begun


@_refusing
async def models(request: HttpRequest) -> HttpResponse:
    """The models the token's owner may use, in OpenAI's list shape."""
    _method(request, "GET")
    return JsonResponse(
        {"object": "list", "data": await _models_of(request.headers.get("Authorization", ""))}
    )


@_refusing
async def chat_completions(request: HttpRequest) -> HttpResponse:
    """A completion through the chat's own path, blocking or streamed (SSE), kept as an API conversation."""
    _method(request, "POST")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "too_large", "The request body is too large.") from None
    admitted, started, begun = await _detached(
        _admit_and_start(request.headers.get("Authorization", ""), raw)
    )
    shape = completions.Shape(begun.reply.pk, begun.chat_model.name)
    try:
        if not admitted.ask.stream:
            return JsonResponse(await completions.blocking(started, shape))
        first = await completions.until_text_or_end(started)
    except BaseException:
        started.stop()  # refused, or the client went away while waiting: the upstream request is closed
        raise
    response = StreamingHttpResponse(
        completions.streamed(started, shape, first, admitted.ask.include_usage),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx passes each event on at once
    return response
