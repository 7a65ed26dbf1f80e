"""The fake upstream's usage details, as the real API reports them: `prompt_tokens_details.cached_tokens`
(input served from its prompt cache) and `completion_tokens_details.reasoning_tokens` (output spent
thinking, counted in completion_tokens). Asked for with `[fake:cached=N]` and `[fake:reasoning=N]`."""

from __future__ import annotations

from typing import Any


def with_details(usage: dict[str, int], directives: dict[str, Any]) -> dict[str, Any]:
    """The usage with the details the directives ask for; cached tokens at most the prompt's."""
    reported: dict[str, Any] = dict(usage)
    if "cached" in directives:
        cached = min(directives["cached"], usage["prompt_tokens"])
        reported["prompt_tokens_details"] = {"cached_tokens": cached}
    if "reasoning" in directives:
        reasoning = directives["reasoning"]
        reported["completion_tokens"] += reasoning
        reported["total_tokens"] += reasoning
        reported["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return reported
