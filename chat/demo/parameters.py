"""The fake upstream's parameter rules: what each model family takes, refused the way the real API does.

A table of its own, kept apart from the site's catalogue on purpose: the tests send every setting the
catalogue offers through it, so a catalogue row that is wrong about a model is refused here as it would
be by the real API (HTTP 400, OpenAI's error shape, `code` and `param`). A model the table does not know
is not checked. The prompt is counted as the real API counts it (usage.py); `[fake:window=N]` sets the
context window of one request, to provoke `context_length_exceeded` cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from chat.demo.usage import prompt_tokens

VERBOSITIES = ("low", "medium", "high")
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Family:
    """What the models of one family take. No efforts: not a reasoning model."""

    window: int
    max_output: int | None
    efforts: tuple[str, ...] = ()
    verbosity: bool = False

    @property
    def reasoning(self) -> bool:
        return bool(self.efforts)


_GPT5 = ("minimal", "low", "medium", "high")
_GPT51 = ("none", "low", "medium", "high")
_GPT52 = ("none", "low", "medium", "high", "xhigh")
_CODEX = ("low", "medium", "high")
_CODEX_MAX = ("low", "medium", "high", "xhigh")

# The first pattern that matches a model's name (its date suffix removed) gives its family.
FAMILIES: tuple[tuple[re.Pattern[str], Family], ...] = (
    (re.compile(r"^gpt-5\.1-codex-mini$"), Family(400_000, 128_000, ("medium", "high"))),
    (re.compile(r"^gpt-5(\.1)?-codex$"), Family(400_000, 128_000, _CODEX)),
    (re.compile(r"^gpt-5\.3-codex-spark$"), Family(128_000, None, _CODEX_MAX)),
    (re.compile(r"^gpt-5\.\d+-codex(-max)?$"), Family(400_000, 128_000, _CODEX_MAX)),
    (re.compile(r"^gpt-5(-mini|-nano)?$"), Family(400_000, 128_000, _GPT5, verbosity=True)),
    (re.compile(r"^gpt-5\.1$"), Family(400_000, 128_000, _GPT51, verbosity=True)),
    (re.compile(r"^gpt-5\.4$"), Family(1_050_000, 128_000, _GPT52, verbosity=True)),
    (re.compile(r"^gpt-5\.\d+(-mini|-nano)?$"), Family(400_000, 128_000, _GPT52, verbosity=True)),
    (re.compile(r"^o\d(-mini|-pro)?$"), Family(200_000, 100_000, ("low", "medium", "high"))),
    (re.compile(r"^gpt-4\.1(-mini|-nano)?$"), Family(1_047_576, 32_768)),
    (re.compile(r"^gpt-4o(-mini)?$"), Family(128_000, 16_384)),
)


def limits_of(model: str) -> dict[str, int]:
    """What the fake's /models says of a model it knows, as OpenAI-compatible upstreams that say
    anything do (OpenAI itself says nothing): its context window and maximum output."""
    family = family_of(model)
    if family is None:
        return {}
    return {"context_window": family.window} | (
        {"max_output_tokens": family.max_output} if family.max_output else {}
    )


def family_of(model: str) -> Family | None:
    name = _DATED.sub("", model)
    return next((family for pattern, family in FAMILIES if pattern.match(name)), None)


def _refuse(message: str, code: str, param: str) -> web.Response:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return web.Response(status=400, body=orjson.dumps({"error": error}), content_type="application/json")


def _listed(values: tuple[str, ...]) -> str:
    quoted = [f"'{value}'" for value in values]
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _parameter_refusal(model: str, family: Family, body: dict[str, Any]) -> web.Response | None:
    if family.reasoning and "max_tokens" in body:
        return _refuse(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "unsupported_parameter",
            "max_tokens",
        )
    for name in ("temperature", "top_p"):
        if family.reasoning and name in body and body[name] != 1:
            return _refuse(
                f"Unsupported value: '{name}' does not support {body[name]} with this model. "
                "Only the default (1) value is supported.",
                "unsupported_value",
                name,
            )
    for name, values in (("reasoning_effort", family.efforts), ("verbosity", VERBOSITIES)):
        if name not in body:
            continue
        taken = family.verbosity if name == "verbosity" else family.reasoning
        if not taken:
            return _refuse(
                f"Unsupported parameter: '{name}' is not supported with this model.",
                "unsupported_parameter",
                name,
            )
        if body[name] not in values:
            return _refuse(
                f"Unsupported value: '{body[name]}' is not supported with the '{model}' model. "
                f"Supported values are: {_listed(values)}.",
                "unsupported_value",
                name,
            )
    for name in ("max_tokens", "max_completion_tokens"):
        limit = body.get(name)
        if family.max_output and isinstance(limit, int) and limit > family.max_output:
            return _refuse(
                f"{name} is too large: {limit}. This model supports at most {family.max_output} "
                f"completion tokens, whereas you provided {limit}.",
                "invalid_value",
                name,
            )
    return None


def refusal(model: str, body: dict[str, Any], directives: dict[str, Any]) -> web.Response | None:
    """The 400 the real API would answer this request with, or None when it takes it."""
    family = family_of(model)
    if family is not None:
        refused = _parameter_refusal(model, family, body)
        if refused is not None:
            return refused
    window = directives.get("window", family.window if family else None)
    if window is None:
        return None
    tokens = prompt_tokens(body.get("messages") or [])
    if tokens <= window:
        return None
    return _refuse(
        f"This model's maximum context length is {window} tokens. However, your messages resulted in "
        f"{tokens} tokens. Please reduce the length of the messages.",
        "context_length_exceeded",
        "messages",
    )
