"""A /chat/completions request body, read strictly: what the chat can do is taken, the rest refused with
a 400 that names it (never a 500: wrong types, NUL, numbers past any range)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import orjson
from django.conf import settings

from chat.api.errors import ApiError, bad_request

# Taken and relayed; the chat's parameter rules (chat/conversations/parameters.py) check the values.
TAKEN = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "reasoning_effort",
    }
)
# Accepted and left out: they change nothing a reply says (n and logprobs only at their defaults).
HARMLESS = frozenset(
    {"user", "metadata", "store", "service_tier", "seed", "parallel_tool_calls", "prompt_cache_key", "n"}
    | {"logprobs", "response_format", "safety_identifier"}
)
ROLES = ("system", "developer", "user", "assistant")
MAX_MESSAGES = 500


@dataclass(frozen=True)
class Ask:
    """What a script asks: the model, the system prompt, the turns before its question, and how to answer."""

    model: str
    question: str
    system_prompt: str = ""
    turns: tuple[tuple[str, str], ...] = ()
    stream: bool = False
    include_usage: bool = False
    # temperature, reasoning_effort and max_tokens, as the chat keeps a conversation's choices
    chosen: dict = field(default_factory=dict)
    top_p: float | None = None


def parse(raw: bytes) -> Ask:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("The body is not JSON (numbers must fit in 64 bits).") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    for name in body:
        if name not in TAKEN and name not in HARMLESS:
            raise bad_request(
                f"{str(name)[:40]!r} is not supported by this endpoint.", "unsupported_parameter"
            )
    _harmless_at_defaults(body)
    model = body.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > 100 or "\x00" in model:
        raise bad_request("model must be the name of a model (see GET /models).")
    system, turns = _messages(body.get("messages"))
    role, question = turns.pop()
    if role != "user" or not question.strip():
        raise bad_request("The last message must be the user's, with some text.")
    stream = _flag(body, "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("stream_options must be an object.")
    include_usage = stream and _flag(options or {}, "include_usage", "stream_options.include_usage")
    return Ask(
        model=model,
        question=question,
        system_prompt="\n\n".join(system),
        turns=tuple(turns),
        stream=stream,
        include_usage=include_usage,
        chosen=_chosen(body),
        top_p=_number(body, "top_p"),
    )


def _harmless_at_defaults(body: dict) -> None:
    if body.get("n") not in (None, 1):
        raise bad_request("n must be 1: one choice per request.", "unsupported_parameter")
    if body.get("logprobs") not in (None, False):
        raise bad_request("logprobs are not supported by this endpoint.", "unsupported_parameter")
    form = body.get("response_format")
    if form is not None and form != {"type": "text"}:
        raise bad_request("response_format can only be text.", "unsupported_parameter")


def _messages(given) -> tuple[list[str], list[tuple[str, str]]]:
    """The system prompt's parts, and the other turns in order."""
    if not isinstance(given, list) or not given:
        raise bad_request("messages must be a list of at least one message.")
    if len(given) > MAX_MESSAGES:
        raise bad_request(f"At most {MAX_MESSAGES} messages in one request.")
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(given):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise bad_request(f"{where} must be an object whose role is one of: {', '.join(ROLES)}.")
        if message.get("tool_calls") or message.get("function_call"):
            raise bad_request(
                f"{where}: tool calls are not supported by this endpoint.", "unsupported_parameter"
            )
        text = _text(message.get("content"), where, message["role"] == "assistant")
        if message["role"] in ("system", "developer"):
            system.append(text)
        else:
            turns.append((message["role"], text))
    if not turns:
        raise bad_request("messages must end with a user message.")
    return system, turns


def _text(content, where: str, may_be_empty: bool) -> str:
    """A message's text: a string, or text parts joined; anything else is refused."""
    if content is None and may_be_empty:
        content = ""
    if isinstance(content, list):
        parts = []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif kind in ("image_url", "input_audio", "file"):
                raise bad_request(
                    f"{where}: {kind} parts are not supported yet; send text.", "unsupported_content"
                )
            else:
                raise bad_request(f"{where}: a content part must be {{'type': 'text', 'text': ...}}.")
        content = "\n".join(parts)
    if not isinstance(content, str):
        raise bad_request(f"{where}.content must be text, or a list of text parts.")
    if "\x00" in content:
        raise bad_request(f"{where}.content cannot hold NUL characters.")
    limit = settings.TOKENOFF_MAX_CONTENT
    if len(content) > limit:
        raise ApiError(413, "too_large", f"{where}: a message can hold at most {limit:,} characters.")
    return content


def _flag(body: dict, name: str, words: str | None = None) -> bool:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"{words or name} must be true or false.")
    return bool(value)


def _number(body: dict, name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_request(f"{name} must be a number.")
    return float(value)


def _chosen(body: dict) -> dict:
    """The parameters the chat keeps for a conversation, under its names (checked against the model later)."""
    chosen: dict = {}
    temperature = _number(body, "temperature")
    if temperature is not None:
        chosen["temperature"] = temperature
    effort = body.get("reasoning_effort")
    if effort is not None:
        if not isinstance(effort, str) or len(effort) > 20:
            raise bad_request("reasoning_effort must be one of the model's efforts.")
        chosen["reasoning_effort"] = effort
    limits = [body[name] for name in ("max_tokens", "max_completion_tokens") if body.get(name) is not None]
    if len(limits) > 1 and limits[0] != limits[1]:
        raise bad_request("max_tokens and max_completion_tokens differ: send one.")
    if limits:
        limit = limits[0]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise bad_request("max_tokens must be a whole number of tokens, at least 1.")
        chosen["max_tokens"] = limit
    return chosen
