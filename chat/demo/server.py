"""Offline OpenAI-compatible Chat Completions server standing in for the TokenOff API in tests and demos.

The directives it obeys are in directives.py; harness.py runs it in a thread for tests, and
`python -m chat.demo` runs it in a process of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from typing import Any

import orjson
from aiohttp import web

from chat.demo import attachments
from chat.demo.details import with_details
from chat.demo.directives import (
    BadDirective,
    asks_for_a_title,
    canned_reply,
    parse_directives,
    parse_header_directives,
    served_model,
    strip_directives,
    title_for,
    tokenize,
)
from chat.demo.parameters import limits_of, refusal
from chat.demo.summaries import asks_for_a_summary, summary_for
from chat.demo.usage import prompt_tokens as counted_prompt_tokens

DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.2", "gpt-5.1", "gpt-5", "gpt-5-mini", "gpt-5-nano",
    "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o4-mini", "o3", "o3-mini", "o3-pro",
    "gpt-5.3-codex", "gpt-5.3-codex-spark", "gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-5.1-codex",
    "gpt-5-codex", "gpt-5.1-codex-mini",
)  # fmt: skip
MODEL_CREATED = 1_744_588_800  # fixed timestamp so /models output is stable across runs

_ERROR_KINDS: dict[int, tuple[str, str, str]] = {
    400: ("invalid_request_error", "invalid_request", "Bad request (simulated by fake upstream)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", "permission_denied", "You are not allowed to use this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access."),
    409: ("invalid_request_error", "conflict", "Conflict (simulated by fake upstream)."),
    422: ("invalid_request_error", "unprocessable_entity", "Unprocessable entity (simulated)."),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached, please retry later."),
    500: ("server_error", "server_error", "The server had an error while processing your request."),
    502: ("server_error", "bad_gateway", "Bad gateway."),
    503: ("server_error", "service_unavailable", "The server is overloaded or not ready yet."),
    504: ("server_error", "gateway_timeout", "Gateway timeout."),
}

_SSE_DONE = b"data: [DONE]\n\n"
_SSE_GARBAGE = b"data: this is not json\n\n"
_SSE_ERROR = b'data: {"error":{"message":"upstream exploded","type":"server_error"}}\n\n'
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclasses.dataclass
class FakeRequest:
    """One request seen by the fake, updated live while its reply is being written."""

    path: str
    method: str
    authorization: str | None
    body: dict[str, Any] | None
    started_at: float
    chunks_sent: int = 0
    completed: bool = False
    client_closed: bool = False
    closed_at: float | None = None
    status: int = 200
    directives: dict[str, Any] = dataclasses.field(default_factory=dict)
    finished_at: float | None = None

    def mark_client_closed(self) -> None:
        """Record that the client went away before the reply was finished."""
        if not self.client_closed and not self.completed:
            self.client_closed = True
            self.closed_at = time.monotonic()


class _Dropped(Exception):
    """Internal signal: the client is gone, stop writing."""


def error_body(status: int, message: str | None = None, code: str | None = None) -> bytes:
    """An OpenAI-shaped error body for `status`."""
    etype, ecode, emsg = _ERROR_KINDS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", f"http_{status}", f"HTTP {status}."),
    )
    return orjson.dumps({"error": {"message": message or emsg, "type": etype, "code": code or ecode}})


def error_response(status: int, message: str | None = None, code: str | None = None) -> web.Response:
    """An OpenAI-shaped error response; 429 carries `retry-after: 0` so clients retry instantly."""
    headers = {"retry-after": "0"} if status == 429 else None
    body = error_body(status, message, code)
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


class FakeServer:
    """An aiohttp server speaking the OpenAI Chat Completions protocol, on the running event loop."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0, models: list[str] | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        self.models: list[str] = list(models) if models is not None else list(DEFAULT_MODELS)
        self.requests: list[FakeRequest] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._stopping = False

    # ----- lifecycle -------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application (exposed so it can also be mounted in an existing loop)."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model}", self._get_model)
        app.router.add_get("/_fake/requests", self._dump_requests)
        app.router.add_delete("/_fake/requests", self._clear_requests)
        # Registered last: everything else gets an OpenAI-shaped 404 instead of aiohttp's text page.
        app.router.add_route("*", "/{tail:.*}", self._unknown_url)
        return app

    async def start_async(self) -> str:
        """Start listening on the running event loop; returns the base URL."""
        self._stopping = False
        # handler_cancellation: a client disconnect cancels the handler at once instead of at the next write.
        self._runner = web.AppRunner(
            self.make_app(), access_log=None, handler_cancellation=True, shutdown_timeout=0.1
        )
        await self._runner.setup()
        # Large backlog: benchmarks open hundreds of connections at the same instant.
        site = web.TCPSite(self._runner, self.host, self.port, backlog=2048)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{self.port}/v1"
        return self.base_url

    async def stop_async(self) -> None:
        """Stop listening and cancel replies still being written."""
        self._stopping = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset(self) -> None:
        """Forget all recorded requests (same list object, so references stay valid)."""
        self.requests.clear()

    # ----- request plumbing --------------------------------------------------------------------------------

    async def _begin(self, request: web.Request) -> tuple[FakeRequest, web.Response | None]:
        """Record the request and check auth; returns an error response to send instead, if any."""
        authorization = request.headers.get("Authorization")
        record = FakeRequest(
            path=request.path,
            method=request.method,
            authorization=authorization,
            body=None,
            started_at=time.monotonic(),
        )
        self.requests.append(record)
        error: web.Response | None = None
        raw = await request.read() if request.body_exists else b""
        if raw:
            try:
                parsed = orjson.loads(raw)
                record.body = parsed if isinstance(parsed, dict) else None
            except ValueError:
                error = error_response(
                    400, "We could not parse the JSON body of your request.", "invalid_json"
                )
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            error = error_response(401, "You didn't provide an API key.", "missing_api_key")
        elif token.startswith("sk-bad"):
            error = error_response(401, f"Incorrect API key provided: {token[:8]}****.", "invalid_api_key")
        if error is None:
            try:
                record.directives = parse_header_directives(request.headers.get("X-Fake"))
            except BadDirective as exc:
                error = error_response(400, str(exc), "bad_fake_directive")
        return record, error

    def _finish(self, record: FakeRequest, response: web.StreamResponse) -> web.StreamResponse:
        """Stamp the final status on the record."""
        record.status = response.status
        record.finished_at = time.monotonic()
        return response

    def _status_directive(self, record: FakeRequest) -> web.Response | None:
        """The simulated error requested via `status=N`, if any."""
        status = record.directives.get("status")
        if status is None or status == 200:
            return None
        if not 400 <= status <= 599:
            return error_response(
                400, f"fake status {status} is not an HTTP error status", "bad_fake_directive"
            )
        return error_response(status)

    async def _unknown_url(self, request: web.Request) -> web.StreamResponse:
        """OpenAI-style 404 for any URL the fake does not serve."""
        record, error = await self._begin(request)
        message = f"Invalid URL ({request.method} {request.path})"
        response = error or error_response(404, message, "unknown_url")
        return self._finish(record, response)

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        """GET /v1/models."""
        record, error = await self._begin(request)
        response = error or self._status_directive(record)
        if response is None:
            data = [
                {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "tokenoff"}
                | limits_of(name)
                for name in self.models
            ]
            body = orjson.dumps({"object": "list", "data": data})
            response = web.Response(body=body, content_type="application/json")
        return self._finish(record, response)

    async def _get_model(self, request: web.Request) -> web.StreamResponse:
        """GET /v1/models/{model}."""
        record, error = await self._begin(request)
        response = error or self._status_directive(record)
        if response is None:
            name = request.match_info["model"]
            if name in self.models:
                body = {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "tokenoff"}
                response = web.Response(body=orjson.dumps(body), content_type="application/json")
            else:
                response = error_response(404, f"The model `{name}` does not exist.", "model_not_found")
        return self._finish(record, response)

    async def _dump_requests(self, request: web.Request) -> web.Response:
        """GET /_fake/requests: the recorded requests as JSON, for tests that run the fake elsewhere."""
        records = [dataclasses.asdict(r) for r in list(self.requests)]
        return web.Response(body=orjson.dumps(records), content_type="application/json")

    async def _clear_requests(self, request: web.Request) -> web.Response:
        """DELETE /_fake/requests: same as reset(), for out-of-process tests."""
        self.reset()
        return web.Response(status=204)

    # ----- chat completions --------------------------------------------------------------------------------

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        """POST /v1/chat/completions, streamed or blocking, with misbehaviour on demand."""
        record, error = await self._begin(request)
        if error is not None:
            return self._finish(record, error)
        body = record.body
        messages = body.get("messages") if body else None
        if not isinstance(messages, list) or not messages:
            error = error_response(400, "'messages' must be a non-empty array", "invalid_value")
            return self._finish(record, error)
        model = body.get("model") if body else None
        if not isinstance(model, str) or not model:
            error = error_response(400, "you must provide a model parameter", "missing_model")
            return self._finish(record, error)

        user_text, user_content = "", None
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                user_content = message.get("content")
                user_text = attachments.own_text(user_content)  # an attached document's text is not asked
                break
        try:
            # Header directives win over the ones in the message text.
            record.directives = {**parse_directives(user_text), **record.directives}
        except BadDirective as exc:
            return self._finish(record, error_response(400, str(exc), "bad_fake_directive"))
        failure = self._status_directive(record) or refusal(model, body, record.directives)
        if failure is None and not attachments.accepts(model, messages):
            failure = error_response(400, attachments.IMAGE_UNSUPPORTED, "invalid_value")
        if failure is not None:
            return self._finish(record, failure)

        d = record.directives
        finish = d.get("finish", "stop")
        clean_text = strip_directives(user_text)
        if "chunks" in d:
            pieces = [f"word{i}" if i == 1 else f" word{i}" for i in range(1, d["chunks"] + 1)]
        elif d.get("echo"):
            pieces = [clean_text[i : i + 5] for i in range(0, len(clean_text), 5)]
        elif asks_for_a_title(messages):
            pieces = tokenize(title_for(clean_text))
        elif asks_for_a_summary(messages):
            pieces = tokenize(summary_for(clean_text))
        else:
            seen = attachments.described(user_content)
            said = canned_reply(clean_text) if clean_text.strip() or not seen else ""
            pieces = tokenize("\n\n".join(text for text in (seen, said) if text))
            # Like the real API, a token limit cuts the canned reply short with finish_reason "length".
            limit = body.get("max_completion_tokens", body.get("max_tokens"))
            if isinstance(limit, int) and 0 < limit < len(pieces):
                pieces = pieces[:limit]
                finish = d.get("finish", "length")
        prompt_tokens = counted_prompt_tokens(messages)
        usage = with_details(
            {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(pieces),
                "total_tokens": prompt_tokens + len(pieces),
            },
            d,
        )
        reply = _Reply(
            rid="resp_" + os.urandom(12).hex(),
            model=served_model(model),
            pieces=pieces,
            usage=usage,
            delay=d.get("delay", self.delay),
            finish=finish,
        )
        try:
            if body.get("stream"):
                options = body.get("stream_options")
                want_usage = isinstance(options, dict) and bool(options.get("include_usage"))
                if not want_usage or d.get("no_usage"):
                    reply.usage = None
                response = await self._stream(request, record, reply)
            else:
                if d.get("no_usage"):
                    reply.usage = None
                response = await self._blocking(request, record, reply)
        except asyncio.CancelledError:
            # aiohttp cancels the handler when the client disconnects (handler_cancellation=True).
            if not self._stopping and not reply.cut_by_us:
                record.mark_client_closed()
            record.finished_at = time.monotonic()
            raise
        return self._finish(record, response)

    async def _pause(self, request: web.Request, record: FakeRequest, delay: float) -> None:
        """Sleep between chunks, then make sure the client is still there before the next write."""
        if delay > 0:
            await asyncio.sleep(delay)
        transport = request.transport
        if transport is None or transport.is_closing():
            record.mark_client_closed()
            raise _Dropped

    async def _blocking(self, request: web.Request, record: FakeRequest, reply: _Reply) -> web.StreamResponse:
        """A single `chat.completion` JSON body."""
        d = record.directives
        try:
            await self._pause(request, record, reply.delay)
        except _Dropped:
            return web.Response(status=499)
        if "cut" in d:
            # Drop the connection before any byte of the response goes out.
            reply.cut_by_us = True
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)
        if d.get("garbage"):
            return web.Response(body=b"this is not json", content_type="application/json")
        if d.get("error_chunk"):
            return web.Response(body=_SSE_ERROR[6:-2], content_type="application/json")
        payload: dict[str, Any] = {
            "id": reply.rid,
            "object": "chat.completion",
            "created": reply.created,
            "model": reply.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(reply.pieces)},
                    "finish_reason": reply.finish,
                }
            ],
        }
        if reply.usage is not None:
            payload["usage"] = reply.usage
        response = web.Response(
            body=orjson.dumps(payload), content_type="application/json", headers={"X-Request-Id": reply.rid}
        )
        # Flags are set before the write: the client may read the bytes before this thread runs again,
        # and tests in the same process check the record as soon as they have the reply.
        record.chunks_sent = len(reply.pieces)
        record.completed = True
        try:
            # Written here rather than by aiohttp after we return, so a failed write is seen.
            await response.prepare(request)
            await response.write_eof()
        except ConnectionError:
            record.chunks_sent = 0
            record.completed = False
            record.mark_client_closed()
        return response

    async def _stream(self, request: web.Request, record: FakeRequest, reply: _Reply) -> web.StreamResponse:
        """Server-sent `chat.completion.chunk` events ending with `data: [DONE]`."""
        d = record.directives
        cut = d.get("cut")
        stamp = bool(d.get("stamp"))
        # `clock`: each piece's text is its own send time, for benchmarks that see only the relayed text.
        clock = bool(d.get("clock"))
        response = web.StreamResponse(headers={**_SSE_HEADERS, "X-Request-Id": reply.rid})
        try:
            await response.prepare(request)
            await response.write(reply.role_chunk())
            for index, piece in enumerate(reply.pieces):
                if cut is not None and index >= cut:
                    break
                await self._pause(request, record, reply.delay)
                # Counted before writing: a same-process reader may see the chunk before this line runs.
                record.chunks_sent += 1
                now = time.time()
                text = f" {now:.6f}" if clock else piece
                try:
                    await response.write(reply.content_chunk(text, now if stamp else None))
                except ConnectionError:
                    record.chunks_sent -= 1  # aiohttp refuses before sending anything
                    raise
                if index == 0 and d.get("garbage"):
                    await response.write(_SSE_GARBAGE)
                if index == 0 and d.get("error_chunk"):
                    await response.write_eof(_SSE_ERROR)
                    return response
            if cut is not None:
                # Close the socket mid-body: the client sees an incomplete chunked response.
                reply.cut_by_us = True
                if request.transport is not None:
                    request.transport.close()
                return response
            await self._pause(request, record, reply.delay)
            record.completed = True  # before the write, for the same reason as chunks_sent
            # One write with the chunked-encoding terminator, so the client can reuse the connection at once.
            await response.write_eof(reply.final_chunk() + _SSE_DONE)
        except _Dropped:
            pass
        except ConnectionError:  # aiohttp raises ClientConnectionResetError when writing to a closed socket
            record.completed = False
            record.mark_client_closed()
        return response


@dataclasses.dataclass
class _Reply:
    """Everything needed to encode one reply; chunk bytes are built from pre-encoded parts."""

    rid: str
    model: str
    pieces: list[str]
    usage: dict[str, Any] | None
    delay: float
    finish: str
    created: int = dataclasses.field(default_factory=lambda: int(time.time()))
    cut_by_us: bool = False  # set when `cut` closes the socket, so that close isn't blamed on the client

    def __post_init__(self) -> None:
        head = orjson.dumps(
            {"id": self.rid, "object": "chat.completion.chunk", "created": self.created, "model": self.model}
        )
        # Leave the object open so each chunk only appends its `choices` part.
        self._head = b"data: " + head[:-1] + b',"choices":[{"index":0,"delta":'
        self._content_head = self._head + b'{"content":'

    def role_chunk(self) -> bytes:
        """The first chunk announcing the assistant role with empty content."""
        return self._head + b'{"role":"assistant","content":""},"finish_reason":null}]}\n\n'

    def content_chunk(self, piece: str, sent_at: float | None = None) -> bytes:
        """One content delta; with `sent_at` an extra top-level timestamp field for benchmarks."""
        if sent_at is None:
            return self._content_head + orjson.dumps(piece) + b'},"finish_reason":null}]}\n\n'
        stamp = b'},"finish_reason":null}],"sent_at":' + orjson.dumps(sent_at)
        return self._content_head + orjson.dumps(piece) + stamp + b"}\n\n"

    def final_chunk(self) -> bytes:
        """The empty delta carrying finish_reason and, when requested, usage."""
        tail = b"}\n\n" if self.usage is None else b',"usage":' + orjson.dumps(self.usage) + b"}\n\n"
        return self._head + b'{},"finish_reason":' + orjson.dumps(self.finish) + b"}]" + tail
