"""A conversation's own parameters: temperature, reasoning effort ("think longer") and the longest reply.

The member's choices are stored as they made them (Conversation.parameters, only the keys they set); what
a reply is sent with is those choices after the model's capability table (ChatModel): a choice the model
does not take is left out, an effort it does not take becomes the nearest one it does, and the longest
reply stays within the model's own maximum. Switching back to a model that takes a choice brings it back.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

from chat.models import ChatModel
from chat.models.catalogue import EFFORTS

KEYS = ("temperature", "reasoning_effort", "max_tokens")
TEMPERATURE_RANGE = (0.0, 2.0)
# The longest reply any choice may ask for when the model's table says no maximum: far past every model's,
# and small enough for the budgets' reservation columns.
MAX_TOKENS_CEILING = 1_000_000


class Invalid(ValueError):
    """A value the model does not take, or input that is no value at all: its field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def nearest_effort(model: ChatModel, effort: str) -> str | None:
    """The model's effort nearest to the one chosen (None when it takes none).

    On a tie the higher one: "minimal" on a model that takes none, low, medium and high becomes "low",
    not "none" (which turns reasoning off, a bigger change than thinking a little more).
    """
    efforts = model.efforts
    if not efforts or effort not in EFFORTS:
        return None
    if effort in efforts:
        return effort
    wanted = EFFORTS.index(effort)
    return min(efforts, key=lambda e: (abs(EFFORTS.index(e) - wanted), -EFFORTS.index(e)))


def effective(model: ChatModel, chosen: dict | None) -> dict:
    """The member's choices this model takes, as they will be sent (keys of KEYS only)."""
    chosen = chosen if isinstance(chosen, dict) else {}
    applied: dict = {}
    temperature = chosen.get("temperature")
    if model.takes_temperature and isinstance(temperature, int | float) and not isinstance(temperature, bool):
        applied["temperature"] = float(temperature)
    effort = chosen.get("reasoning_effort")
    if isinstance(effort, str):
        nearest = nearest_effort(model, effort)
        if nearest:
            applied["reasoning_effort"] = nearest
    limit = chosen.get("max_tokens")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        applied["max_tokens"] = min(limit, model.max_output_limit or limit)
    return applied


def apply(model: ChatModel, chosen: dict | None) -> None:
    """Put the conversation's choices on this (in-memory) row, over the admin's fixed ones, so that
    model.request_parameters() sends them; the row is never saved."""
    applied = effective(model, chosen)
    if "temperature" in applied:
        model.temperature = applied["temperature"]
    if "reasoning_effort" in applied:
        model.reasoning_effort = applied["reasoning_effort"]
    if "max_tokens" in applied:
        ours = model.max_output_tokens
        model.max_output_tokens = min(applied["max_tokens"], ours) if ours else applied["max_tokens"]


def parse(model: ChatModel, given: dict, current: dict | None = None) -> dict:
    """The conversation's choices after a change: `given` holds text (a form) or JSON values per key; an
    empty value clears the key, an absent one keeps it. Raises Invalid for a value the model refuses."""
    result = {key: value for key, value in (current or {}).items() if key in KEYS}
    for key in KEYS:
        if key not in given:
            continue
        value = given[key]
        if value is None or value == "":
            result.pop(key, None)
            continue
        result[key] = _PARSERS[key](model, value)
    return result


def _number(field: str, value) -> float:
    if isinstance(value, bool):
        raise Invalid(field, _("Enter a number."))
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise Invalid(field, _("Enter a number."))
    return number


def _temperature(model: ChatModel, value) -> float:
    if not model.takes_temperature:
        raise Invalid("temperature", _("This model does not take a temperature."))
    number = _number("temperature", value)
    low, high = TEMPERATURE_RANGE
    if not low <= number <= high:
        raise Invalid("temperature", _("The temperature is between 0 and 2."))
    return round(number, 2)


def _effort(model: ChatModel, value) -> str:
    if not model.efforts:
        raise Invalid("reasoning_effort", _("This model does not take a reasoning effort."))
    if value not in model.efforts:
        raise Invalid(
            "reasoning_effort",
            _("This model takes one of: %(efforts)s.") % {"efforts": ", ".join(model.efforts)},
        )
    return value


def _max_tokens(model: ChatModel, value) -> int:
    number = _number("max_tokens", value)
    if number != int(number) or number < 1:
        raise Invalid("max_tokens", _("Enter a whole number of tokens, at least 1."))
    limit = model.max_output_limit or MAX_TOKENS_CEILING
    if number > limit:
        raise Invalid("max_tokens", _("This model writes at most %(limit)s tokens.") % {"limit": limit})
    return int(number)


_PARSERS = {"temperature": _temperature, "reasoning_effort": _effort, "max_tokens": _max_tokens}


def sent_with(request: dict) -> dict:
    """What the reply row records of a request's body: the parameters, the cap under one name."""
    recorded = {key: value for key, value in request.items() if key in _SENT}
    limit = recorded.pop("max_completion_tokens", None)
    if limit is not None:
        recorded["max_tokens"] = limit
    return recorded


_SENT = frozenset(
    {"temperature", "top_p", "reasoning_effort", "verbosity", "max_tokens", "max_completion_tokens"}
)
