"""The only module that talks to TokenOff, and the only one that imports openai.

One AsyncOpenAI per event loop (one per process under daphne), on the SDK's aiohttp transport,
reading the raw SSE lines and parsing them with orjson: the SDK keeps auth, retries and error
types, and we skip building pydantic objects for every chunk. A streamed body is read from the
aiohttp response under the SDK's httpx2 layers (their line iteration cost more CPU per chunk than
everything else the relay does with it), falling back to the SDK's lines on another transport.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import httpx2
import openai
import orjson
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from chat.lib import crypto

if TYPE_CHECKING:
    from chat.models import ApiKey, ChatModel

DEMO_KEY = "demo-key-for-the-fake-upstream"


class UpstreamError(Exception):
    """A failure of the upstream, as a protocol error code and a message fit for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
    weakref.WeakKeyDictionary()
)


@sensitive_variables("api_key")
def _new_client(api_key: str, timeout: httpx2.Timeout, max_connections: int, retries: int):
    return openai.AsyncOpenAI(
        api_key=api_key,
        base_url=settings.TOKENOFF_BASE_URL,
        max_retries=retries,
        timeout=timeout,
        # A redirect must never carry the key to another host.
        http_client=openai.DefaultAioHttpClient(
            timeout=timeout,
            limits=httpx2.Limits(
                max_connections=max_connections, max_keepalive_connections=max(1, max_connections // 4)
            ),
            follow_redirects=False,
        ),
    )


def client() -> openai.AsyncOpenAI:
    """The process's client; its aiohttp session belongs to one event loop, hence one per loop."""
    loop = asyncio.get_running_loop()
    if loop not in _clients:
        timeout = httpx2.Timeout(
            connect=settings.TOKENOFF_CONNECT_TIMEOUT,
            read=settings.TOKENOFF_READ_TIMEOUT,
            write=settings.TOKENOFF_CONNECT_TIMEOUT,
            pool=settings.TOKENOFF_CONNECT_TIMEOUT,
        )
        _clients[loop] = _new_client(
            "set-per-request", timeout, settings.TOKENOFF_MAX_CONNECTIONS, settings.TOKENOFF_MAX_RETRIES
        )
    return _clients[loop]


_keyed: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, openai.AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)
KEYED_CLIENTS = 256  # per event loop: the team key and the members' own keys


def keyed_client(secret: str, retries: int | None = None) -> openai.AsyncOpenAI:
    """The loop's client carrying this key, kept: a copy made per request would redo the SDK's
    set-up of a new client (its first request looks the platform up in a thread, on the path to
    the first token). The copies share the loop's connection pool. `retries`: a copy with its own
    retry count (a title's: none), kept too."""
    copies = _keyed.setdefault(asyncio.get_running_loop(), {})
    tag = hashlib.sha256(secret.encode()).hexdigest() + ("" if retries is None else f":{retries}")
    keyed = copies.get(tag)
    if keyed is None:
        if len(copies) >= KEYED_CLIENTS:
            del copies[next(iter(copies))]  # the oldest
        options = {"api_key": secret} if retries is None else {"api_key": secret, "max_retries": retries}
        keyed = copies[tag] = client().with_options(**options)
    return keyed


@asynccontextmanager
async def _one_off_client(key: ApiKey | None) -> AsyncIterator[openai.AsyncOpenAI]:
    """A client of its own for a rare call from the admin or a command: no event loop shares it."""
    api = _new_client(_secret(key), httpx2.Timeout(settings.TOKENOFF_CHECK_TIMEOUT), 1, 0)
    try:
        yield api
    finally:
        await api.close()


@sensitive_variables()
def _secret(key: ApiKey | None) -> str:
    if key is None:
        if settings.TOKENOFF_DEMO:
            return DEMO_KEY
        raise UpstreamError("no_api_key", "No TokenOff API key is set for you or for the team.")
    try:
        return key.reveal()
    except crypto.InvalidToken:
        # The key it was stored under is no longer configured: see the rotate_encryption_keys check.
        raise UpstreamError(
            "no_api_key", "The stored API key cannot be decrypted with the configured encryption keys."
        ) from None


def chat_request(model: ChatModel, messages: list[dict]) -> dict:
    """The body of a streamed Chat Completions request for this model."""
    return {
        "model": model.name,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        **model.request_parameters(),
    }


# The request's parameters the catalogue's rows decide (see ChatModel.request_parameters).
SETTING_PARAMS = frozenset(
    {"temperature", "top_p", "reasoning_effort", "verbosity", "max_tokens", "max_completion_tokens"}
)


def _refusal(exc: openai.APIStatusError) -> UpstreamError | None:
    """A 400 that names its cause: a conversation too long for the model, or a parameter it refuses."""
    if exc.status_code != 400:
        return None
    if exc.code == "context_length_exceeded":
        return UpstreamError(
            "context_length_exceeded",
            "The conversation is longer than this model can read. Start a new chat, or choose a model "
            "with a larger context window.",
        )
    # Only a name of ours goes into the message: the upstream's words are not shown.
    param = exc.param if isinstance(exc.param, str) and exc.param in SETTING_PARAMS else None
    if exc.code in ("unsupported_parameter", "unsupported_value") or param:
        return UpstreamError(
            "unsupported_parameter",
            f"TokenOff refused a setting this model does not take ({param or 'a parameter'}). "
            "An admin should correct the model's capabilities in the catalogue.",
        )
    return None


def _status_error(status: int) -> UpstreamError:
    # The upstream's own error message is never shown: it may echo the request, and it is not ours.
    if status in (401, 403):
        return UpstreamError(
            "upstream_auth", f"TokenOff refused the API key (HTTP {status}). Ask an admin to check it."
        )
    if status == 429:
        return UpstreamError(
            "upstream_rate_limited", "TokenOff is rate limiting this key. Try again in a moment."
        )
    if status >= 500:
        return UpstreamError("upstream_unavailable", f"TokenOff is unavailable right now (HTTP {status}).")
    if status == 404:
        return UpstreamError("upstream_error", "TokenOff does not offer this model (HTTP 404).")
    return UpstreamError("upstream_error", f"TokenOff rejected the request (HTTP {status}).")


def _translate(exc: Exception) -> UpstreamError:
    if isinstance(exc, UpstreamError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        return _refusal(exc) or _status_error(exc.status_code)
    # aiohttp's read timeout (SocketTimeoutError) is a TimeoutError and a ClientError.
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException | TimeoutError):
        return UpstreamError("upstream_unavailable", "TokenOff did not answer in time.")
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError | aiohttp.ClientError):
        return UpstreamError("upstream_unavailable", "The connection to TokenOff failed or was cut off.")
    return UpstreamError("upstream_error", "TokenOff answered with something that is not a valid reply.")


def _aiohttp_body(response: openai.AsyncAPIResponse) -> aiohttp.StreamReader | None:
    """The body's aiohttp stream under the SDK's httpx2 response, or None on another transport."""
    http = response.http_response
    stream = getattr(http.stream, "_stream", http.stream)  # httpx2's BoundAsyncStream around it
    raw = getattr(stream, "_aiohttp_response", None)  # the SDK's vendored httpx_aiohttp transport
    if not isinstance(raw, aiohttp.ClientResponse) or http.is_stream_consumed:
        return None
    # The transport asks aiohttp not to decompress: httpx2 does it, so an encoded body goes that way.
    if raw.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    return raw.content


_CUT_OFF = ("upstream_unavailable", "TokenOff cut the reply off before its end.")
_NOT_A_CHUNK = ("upstream_error", "TokenOff sent a line that is not a reply chunk.")


class ReplyStream:
    """One streamed reply: iterate for the text pieces; finish_reason, usage and served_model after."""

    def __init__(self, response: openai.AsyncAPIResponse) -> None:
        self._response = response
        self._done = False
        self.finish_reason: str | None = None
        self.usage: dict | None = None
        self.served_model: str = ""

    async def __aiter__(self) -> AsyncIterator[str]:
        body = _aiohttp_body(self._response)
        if body is None:
            async for text in self._from_lines():
                yield text
        else:
            # Inline, not a generator of lines under this one: each layer costs CPU per chunk.
            # Whatever has arrived is split into lines here: a line may span reads and be of any
            # length (StreamReader.readline refuses one over 128 KiB). As SSE says, an unterminated
            # last line at the end of the body is dropped: the reply was cut off.
            pending: list[bytes] = []  # the start of a line not yet ended
            out: list[str] = []
            try:
                while not self._done:
                    block = await body.readany()
                    if not block:
                        break
                    lines = block.splitlines()  # bytes split only on \n, \r and \r\n, as SSE does
                    if not block.endswith((b"\n", b"\r")):
                        if len(lines) == 1:
                            pending.append(block)
                            continue
                        rest = lines.pop()
                    else:
                        rest = None
                    if pending:
                        pending.append(lines[0])
                        lines[0] = b"".join(pending)
                        pending.clear()
                    if rest is not None:
                        pending.append(rest)
                    failure = self._read_lines(lines, out)
                    for text in out:
                        yield text
                    out.clear()
                    if failure is not None:
                        raise failure
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise _translate(exc) from None
        if not self._done and self.finish_reason is None:
            raise UpstreamError(*_CUT_OFF)

    def _read_lines(self, lines: list[bytes], out: list[str]) -> UpstreamError | None:
        """The `data:` lines' pieces into out, up to [DONE] or a failure, returned after the pieces
        before it (as the SDK's lines gave them one by one)."""
        for line in lines:
            if line.startswith(b"data:"):
                try:
                    self._read_data(line[5:].strip(), out)
                except UpstreamError as failure:
                    return failure
                if self._done:
                    break
        return None

    async def _from_lines(self) -> AsyncIterator[str]:
        """The SDK's own lines, for a transport other than aiohttp."""
        out: list[str] = []
        try:
            async for line in self._response.iter_lines():
                if line.startswith("data:"):  # else blank separators, SSE comments and event names
                    self._read_data(line[5:].strip().encode(), out)
                    for text in out:
                        yield text
                    out.clear()
                    if self._done:
                        break
        except (httpx2.HTTPError, openai.OpenAIError) as exc:
            raise _translate(exc) from None

    def _read_data(self, data: bytes, out: list[str]) -> None:
        """One `data:` line's text pieces, appended to out; [DONE] ends the reply."""
        if data == b"[DONE]":
            self._done = True
            return
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            try:  # as httpx2 decoded the lines: a byte that is not UTF-8 becomes U+FFFD
                chunk = orjson.loads(data.decode(errors="replace"))
            except orjson.JSONDecodeError:
                raise UpstreamError(*_NOT_A_CHUNK) from None
        if type(chunk) is not dict or "error" in chunk:
            raise UpstreamError("upstream_error", "TokenOff reported an error in the middle of the reply.")
        model = chunk.get("model")
        if model and isinstance(model, str):
            self.served_model = model[:100]  # what the database keeps; the upstream may say anything
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        choices = chunk.get("choices")
        if not choices:
            return
        try:
            for choice in choices:
                delta = choice.get("delta")
                text = delta.get("content") if delta else None
                # Only text content is relayed: tool calls, refusals and anything else stay out.
                if text and isinstance(text, str):
                    out.append(text.replace("\x00", ""))  # PostgreSQL text holds no NUL
                if choice.get("finish_reason"):
                    self.finish_reason = str(choice["finish_reason"])[:32]
        except (AttributeError, TypeError):  # choices, a choice or a delta that is not what it should be
            raise UpstreamError(*_NOT_A_CHUNK) from None


@asynccontextmanager
async def open_stream(
    key: ApiKey | None, model: ChatModel, messages: list[dict]
) -> AsyncIterator[ReplyStream]:
    """Start a streamed completion; leaving the block closes the upstream HTTP request."""
    api = keyed_client(_secret(key)).chat.completions.with_streaming_response
    body = chat_request(model, messages)
    # The body is built here and JSON-ready: sent as extra_body it skips the SDK's walk of every
    # message against its TypedDicts (2 to 6 ms of CPU per reply, growing with the history); the
    # SDK still does auth, retries and errors. The empty messages argument is replaced by the body's.
    try:
        async with api.create(model=model.name, messages=(), stream=True, extra_body=body) as response:
            yield ReplyStream(response)
    except (openai.OpenAIError, httpx2.HTTPError) as exc:
        raise _translate(exc) from None


@dataclass(frozen=True)
class Completion:
    """A blocking completion's text, and the usage the upstream reported (None when it gave none)."""

    text: str
    usage: dict | None


async def complete(
    key: ApiKey | None, model_name: str, messages: list[dict], max_tokens: int = 30
) -> Completion:
    """A short blocking completion (titles, summaries). Its cap goes as max_completion_tokens, which
    every current chat model takes; max_tokens would be refused if the title model were a reasoning one."""
    api = keyed_client(_secret(key), retries=0)
    body = {"model": model_name, "messages": messages, "max_completion_tokens": max_tokens}
    try:
        # As open_stream: the body JSON-ready (no walk of the messages), the answer read with orjson
        # (no typed objects built); the SDK still does auth, the status errors and the timeouts.
        raw = await api.chat.completions.with_raw_response.create(
            model=model_name, messages=(), extra_body=body
        )
        answer = orjson.loads(await raw.http_response.aread())
    except (openai.OpenAIError, httpx2.HTTPError) as exc:
        raise _translate(exc) from None
    except orjson.JSONDecodeError:
        raise _not_a_reply() from None
    return _completion(answer)


def _not_a_reply() -> UpstreamError:
    return UpstreamError("upstream_error", "TokenOff answered with something that is not a valid reply.")


def _completion(answer) -> Completion:
    """A completion's text and usage, from its JSON as sent; an answer of the wrong shape is an error."""
    try:
        choices = answer.get("choices") or []
        message = choices[0].get("message") or {} if choices else {}
        text = message.get("content") or ""
        usage = answer.get("usage")
    except (AttributeError, IndexError, KeyError, TypeError):
        raise _not_a_reply() from None
    if not isinstance(text, str):
        raise _not_a_reply()
    usage = {k: v for k, v in usage.items() if v is not None} if isinstance(usage, dict) else None
    return Completion(text, usage)


async def list_models(key: ApiKey | None) -> list[str]:
    """The model ids the upstream offers to this key."""
    return [entry["id"] for entry in await list_model_entries(key)]


async def list_model_entries(key: ApiKey | None) -> list[dict]:
    """The upstream's /models entries as it sent them: `id`, and whatever else it says of a model
    (OpenAI says nothing of its limits; some compatible upstreams give a context length, a maximum
    output, input modalities: chat.models.catalogue.upstream_facts reads those)."""
    try:
        async with _one_off_client(key) as api:
            return [model.to_dict() async for model in api.models.list()]
    except (openai.OpenAIError, httpx2.HTTPError) as exc:
        raise _translate(exc) from None


@dataclass(frozen=True)
class KeyCheck:
    """What the upstream said of a key: ok, rejected, unreachable or unreadable, and why."""

    result: str
    detail: str


# How a failed /models call reads as a key check: only a refusal says the key itself is bad.
_CHECK_RESULTS = {"upstream_auth": "rejected", "no_api_key": "unreadable"}


async def check_key(key: ApiKey) -> KeyCheck:
    """Call the upstream's /models with this key."""
    try:
        names = await list_models(key)
    except UpstreamError as exc:
        return KeyCheck(_CHECK_RESULTS.get(exc.code, "unreachable"), exc.message)
    return KeyCheck("ok", f"TokenOff accepted the key and offers {len(names)} models.")


async def aclose() -> None:
    """Close this loop's client and its connections (at shutdown, and between tests)."""
    _keyed.pop(asyncio.get_running_loop(), None)  # copies of the client below: they share its pool
    instance = _clients.pop(asyncio.get_running_loop(), None)
    if instance is not None:
        await instance.close()
