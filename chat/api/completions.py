"""A reply as OpenAI's Chat Completions answers: one chat.completion, or chat.completion.chunk events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson

from chat.api import errors
from chat.api.relay import END, Event, Relay
from chat.realtime.frames import FinishReason

# Ours, as a client of OpenAI's reads them: the member's stop in the chat ends it like a stop sequence.
_FINISH = {FinishReason.STOPPED: "stop"}
# The end without a done: another process ended the reply as interrupted (it thought this one dead).
INTERRUPTED = errors.ApiError(503, "interrupted", "The reply was interrupted. Try again.")
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details")


def usage_of(done: dict | None) -> dict | None:
    """The done frame's usage in OpenAI's shape (our `estimated` flag left out)."""
    usage = (done or {}).get("usage")
    if not isinstance(usage, dict):
        return None
    shaped = {key: usage[key] for key in _USAGE_KEYS if key in usage}
    if "completion_tokens_details" in usage:
        shaped["completion_tokens_details"] = usage["completion_tokens_details"]
    return shaped


class Shape:
    """One completion's id, time and model, the same in every chunk."""

    def __init__(self, message_id: int, model: str) -> None:
        self.id = f"chatcmpl-{message_id}"
        self.created = int(time.time())
        self.model = model

    def completion(self, text: str, done: dict) -> dict:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason(done),
                }
            ],
            "usage": usage_of(done),
        }

    def chunk(self, delta: dict, finish: str | None = None, usage: dict | None = None, empty=False) -> bytes:
        choices = [] if empty else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if empty:
            body["usage"] = usage
        return b"data: " + orjson.dumps(body) + b"\n\n"


def finish_reason(done: dict) -> str:
    reason = done.get("finish_reason") or "stop"
    return _FINISH.get(reason, reason)


async def until_text_or_end(relay: Relay) -> Event:
    """The first event that is not an error: a failure before any text is raised as the API's error."""
    event = await relay.next()
    if event.kind != "error":
        return event
    while await relay.next() is not END:
        pass  # the done that follows a failure, then the end
    raise errors.of_upstream(event.frame["code"], event.frame["message"])


async def blocking(relay: Relay, shape: Shape) -> dict:
    """Wait for the whole reply: one chat.completion, or the error it ended with."""
    pieces: list[str] = []
    done = failure = None
    while (event := await relay.next()).kind != "end":
        if event.kind == "delta":
            pieces.append(event.text)
        elif event.kind == "error":
            failure = event.frame
        else:
            done = event.frame
    if failure is not None:
        raise errors.of_upstream(failure["code"], failure["message"])
    if done is None:
        raise INTERRUPTED
    return shape.completion("".join(pieces), done)


async def streamed(relay: Relay, shape: Shape, first: Event, include_usage: bool) -> AsyncIterator[bytes]:
    """SSE events: the role, a chunk per delta, the finish, the usage when asked, then [DONE]. A failure
    after text has gone out is an error event (the SDK raises it) without [DONE]."""
    try:
        yield shape.chunk({"role": "assistant", "content": ""})
        event, ended = first, False
        while event.kind != "end":
            if event.kind == "delta":
                yield shape.chunk({"content": event.text})
            elif event.kind == "error":
                failure = errors.of_upstream(event.frame["code"], event.frame["message"])
                yield b"data: " + orjson.dumps(failure.body()) + b"\n\n"
                return
            else:
                ended = True
                yield shape.chunk({}, finish_reason(event.frame))
                if include_usage:
                    yield shape.chunk({}, usage=usage_of(event.frame), empty=True)
                yield b"data: [DONE]\n\n"
            event = await relay.next()
        if not ended:
            yield b"data: " + orjson.dumps(INTERRUPTED.body()) + b"\n\n"
    finally:
        # Cancelled (the client went away: Django cancels the response on http.disconnect) or closed early.
        relay.stop()
