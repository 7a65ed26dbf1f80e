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


class ReplyStream(StreamingHttpResponse):
    """The SSE response of a reply, which stops it when Django closes the response: a client gone right
    after the headers leaves the body's generator unstarted, so its own clean-up never runs."""

    def __init__(self, started: relay.Relay, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.started = started

    def close(self) -> None:
        self.started.stop_soon()  # nothing once the stream has seen the reply's end
        super().close()


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


def _stop_once_started(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result()[1].stop()


async def _admitted(header: str, raw: bytes):
    """Admit and start the call. Shielded: a client gone while its reply is being saved must not cut the
    saving short (that would leave a reply streaming that nothing runs); the reply is stopped once begun."""
    task = _detached(_admit_and_start(header, raw))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_stop_once_started)
        raise


@_refusing
async def models(request: HttpRequest) -> HttpResponse:
    """The models the token's owner may use, in OpenAI's list shape."""
    _method(request, "GET")
    return JsonResponse(
        {"object": "list", "data": await _models_of(access.Header(request.headers.get("Authorization", "")))}
    )


@_refusing
async def chat_completions(request: HttpRequest) -> HttpResponse:
    """A completion through the chat's own path, blocking or streamed (SSE), kept as an API conversation."""
    _method(request, "POST")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "too_large", "The request body is too large.") from None
    admitted, started, begun = await _admitted(access.Header(request.headers.get("Authorization", "")), raw)
    shape = completions.Shape(begun.reply.pk, begun.chat_model.name)
    try:
        if not admitted.ask.stream:
            return JsonResponse(await completions.blocking(started, shape))
        first = await completions.until_text_or_end(started)
    except BaseException:
        started.stop()  # refused, or the client went away while waiting: the upstream request is closed
        raise
    response = ReplyStream(
        started,
        completions.streamed(started, shape, first, admitted.ask.include_usage),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx passes each event on at once
    return response
