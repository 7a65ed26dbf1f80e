"""Offline OpenAI-compatible Chat Completions server standing in for the TokenOff API in tests and demos."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

try:
    import orjson

    def _dumps(obj: Any) -> bytes:
        """Serialize compactly (no spaces), matching the upstream wire format."""
        return orjson.dumps(obj)

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency, stdlib keeps the module usable without it
    import json

    def _dumps(obj: Any) -> bytes:
        """Serialize compactly (no spaces), matching the upstream wire format."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    _loads = json.loads


DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.2", "gpt-5.1", "gpt-5", "gpt-5-mini", "gpt-5-nano",
    "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o4-mini", "o3", "o3-mini", "o3-pro",
    "gpt-5.3-codex", "gpt-5.3-codex-spark", "gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-5.1-codex",
    "gpt-5-codex", "gpt-5.1-codex-mini",
)  # fmt: skip
SERVED_MODEL_SUFFIX = "-2025-04-14"
MODEL_CREATED = 1_744_588_800  # fixed timestamp so /models output is stable across runs

_DIRECTIVE_RE = re.compile(r"\[fake:([a-z_]+)(?:=([^\]\s]*))?\]")
_DATED_RE = re.compile(r"-\d{4}-\d{2}-\d{2}$")
# Newlines stand alone; leading horizontal whitespace sticks to the next word or punctuation mark.
_TOKEN_RE = re.compile(r"\n|[^\S\n]*(?:\w+|[^\w\s])|[^\S\n]+")

_INT_KEYS = frozenset({"status", "cut", "chunks"})
_FLAG_KEYS = frozenset({"garbage", "error_chunk", "no_usage", "echo", "stamp", "clock"})
_KNOWN_KEYS = _INT_KEYS | _FLAG_KEYS | {"delay", "finish"}

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

_REPLY_BODY = """This reply comes from the **offline fake upstream**, so no network access or real API key \
is needed. It streams word by word, just like the real service.

- Markdown is rendered safely
- Code blocks get *syntax highlighting*
- Long replies arrive in small pieces

```python
def greet(name: str) -> str:
    \"\"\"Return a friendly greeting.\"\"\"
    return f"Hello, {name}!"


print(greet("world"))
```

Anything else I can help with?"""


class BadDirective(ValueError):
    """A `[fake:...]` directive that cannot be parsed; answered with HTTP 400 so typos surface."""


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


def tokenize(text: str) -> list[str]:
    """Split text into word-sized pieces whose concatenation is exactly `text`."""
    return _TOKEN_RE.findall(text)


def canned_reply(user_text: str) -> str:
    """The friendly Markdown reply for a user message (directives already removed)."""
    user_text = user_text.strip()
    if not user_text:
        return "Hello! Thanks for your message.\n\n" + _REPLY_BODY
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in user_text.splitlines())
    return f"Hello! Thanks for your message. You wrote:\n\n{quoted}\n\n{_REPLY_BODY}"


def asks_for_a_title(messages: list) -> bool:
    """A conversation-naming request: a system message that asks for a title."""
    first = messages[0] if messages else None
    return (
        isinstance(first, dict)
        and first.get("role") == "system"
        and "title" in message_text(first.get("content"))
    )


def title_for(user_text: str) -> str:
    """What a small model would answer: the question's first few words, capitalised."""
    title = " ".join(user_text.split()[:6]).strip(" ?!.,:;")
    return title[:1].upper() + title[1:] if title else "New conversation"


def unsupported_parameter(model: str, body: dict[str, Any]) -> str | None:
    """Like the real API: reasoning models refuse temperature, other models refuse reasoning_effort."""
    reasoning = model.startswith(("o1", "o3", "o4", "gpt-5"))
    if reasoning and "temperature" in body:
        return f"Unsupported parameter: 'temperature' is not supported with the model {model}."
    if not reasoning and "reasoning_effort" in body:
        return f"Unsupported parameter: 'reasoning_effort' is not supported with the model {model}."
    return None


def served_model(requested: str) -> str:
    """The dated name reported back, so callers can see it differs from the one asked for."""
    return requested if _DATED_RE.search(requested) else requested + SERVED_MODEL_SUFFIX


def strip_directives(text: str) -> str:
    """The message text with every `[fake:...]` directive removed and outer whitespace trimmed."""
    return _DIRECTIVE_RE.sub("", text).strip()


def message_text(content: Any) -> str:
    """Plain text of a message `content`, which may be a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _convert(key: str, value: str | None) -> Any:
    """Validate and convert one directive value."""
    if key not in _KNOWN_KEYS:
        raise BadDirective(f"unknown fake directive {key!r}")
    if key in _FLAG_KEYS:
        return True
    if value is None or value == "":
        raise BadDirective(f"fake directive {key!r} needs a value")
    try:
        if key in _INT_KEYS:
            number = int(value)
            if number < 0:
                raise ValueError
            return number
        if key == "delay":
            seconds = float(value)
            if not 0 <= seconds < 3600:
                raise ValueError
            return seconds
    except ValueError:
        raise BadDirective(f"bad value {value!r} for fake directive {key!r}") from None
    return value  # finish: any finish_reason string


def parse_directives(text: str) -> dict[str, Any]:
    """Directives embedded in message text as `[fake:key]` or `[fake:key=value]`."""
    return {m.group(1): _convert(m.group(1), m.group(2)) for m in _DIRECTIVE_RE.finditer(text)}


def parse_header_directives(header: str | None) -> dict[str, Any]:
    """Directives from an `X-Fake: status=500; cut=3` header."""
    out: dict[str, Any] = {}
    for item in (header or "").split(";"):
        key, sep, value = item.strip().partition("=")
        if key:
            out[key.strip()] = _convert(key.strip(), value.strip() if sep else None)
    return out


def error_body(status: int, message: str | None = None, code: str | None = None) -> bytes:
    """An OpenAI-shaped error body for `status`."""
    etype, ecode, emsg = _ERROR_KINDS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", f"http_{status}", f"HTTP {status}."),
    )
    return _dumps({"error": {"message": message or emsg, "type": etype, "code": code or ecode}})


def error_response(status: int, message: str | None = None, code: str | None = None) -> web.Response:
    """An OpenAI-shaped error response; 429 carries `retry-after: 0` so clients retry instantly."""
    headers = {"retry-after": "0"} if status == 429 else None
    body = error_body(status, message, code)
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


class FakeUpstream:
    """An aiohttp server speaking the OpenAI Chat Completions protocol, run in a background thread."""

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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
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

    def start(self) -> str:
        """Run the server in a daemon thread with its own loop; blocks until listening, returns base URL."""
        if self._thread is not None:
            return self.base_url
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # surfaced to the caller of start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop_async())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-upstream", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake upstream did not start within 10 s")
        if failure:
            self._thread = None
            raise failure[0]
        return self.base_url

    def stop(self) -> None:
        """Stop the background server and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._stopping = True
        # No is_running() check: right after start() the loop may not have entered run_forever yet,
        # and callbacks scheduled now still run once it does.
        with contextlib.suppress(Exception):  # best effort: the thread cleans up again on its way out
            asyncio.run_coroutine_threadsafe(self.stop_async(), loop).result(timeout=5)
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeUpstream:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----- test helpers ------------------------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> bool:
        """Poll `predicate()` until truthy or `timeout` seconds pass; returns the last outcome."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

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
                parsed = _loads(raw)
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
                for name in self.models
            ]
            body = _dumps({"object": "list", "data": data})
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
                response = web.Response(body=_dumps(body), content_type="application/json")
            else:
                response = error_response(404, f"The model `{name}` does not exist.", "model_not_found")
        return self._finish(record, response)

    async def _dump_requests(self, request: web.Request) -> web.Response:
        """GET /_fake/requests: the recorded requests as JSON, for tests that run the fake elsewhere."""
        records = [dataclasses.asdict(r) for r in list(self.requests)]
        return web.Response(body=_dumps(records), content_type="application/json")

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
        refused = unsupported_parameter(model, body)
        if refused is not None:
            return self._finish(record, error_response(400, refused, "unsupported_parameter"))

        user_text = ""
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                user_text = message_text(message.get("content"))
                break
        try:
            # Header directives win over the ones in the message text.
            record.directives = {**parse_directives(user_text), **record.directives}
        except BadDirective as exc:
            return self._finish(record, error_response(400, str(exc), "bad_fake_directive"))
        failure = self._status_directive(record)
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
        else:
            pieces = tokenize(canned_reply(clean_text))
            # Like the real API, a token limit cuts the canned reply short with finish_reason "length".
            limit = body.get("max_completion_tokens", body.get("max_tokens"))
            if isinstance(limit, int) and 0 < limit < len(pieces):
                pieces = pieces[:limit]
                finish = d.get("finish", "length")
        prompt_tokens = sum(
            len(message_text(m.get("content")).split()) for m in messages if isinstance(m, dict)
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
        }
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
            body=_dumps(payload), content_type="application/json", headers={"X-Request-Id": reply.rid}
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
    usage: dict[str, int] | None
    delay: float
    finish: str
    created: int = dataclasses.field(default_factory=lambda: int(time.time()))
    cut_by_us: bool = False  # set when `cut` closes the socket, so that close isn't blamed on the client

    def __post_init__(self) -> None:
        head = _dumps(
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
            return self._content_head + _dumps(piece) + b'},"finish_reason":null}]}\n\n'
        stamp = b'},"finish_reason":null}],"sent_at":' + _dumps(sent_at)
        return self._content_head + _dumps(piece) + stamp + b"}\n\n"

    def final_chunk(self) -> bytes:
        """The empty delta carrying finish_reason and, when requested, usage."""
        tail = b"}\n\n" if self.usage is None else b',"usage":' + _dumps(self.usage) + b"}\n\n"
        return self._head + b'{},"finish_reason":' + _dumps(self.finish) + b"}]" + tail


async def _serve_forever(host: str, port: int, delay: float) -> None:
    """Serve until SIGINT/SIGTERM."""
    fake = FakeUpstream(host=host, port=port, delay=delay)
    base_url = await fake.start_async()
    print(f"fake upstream listening on {base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await fake.stop_async()


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: `python -m chat.demo --host 127.0.0.1 --port 8001 --delay 0.03`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between streamed chunks")
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args.host, args.port, args.delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
