"""The model picker's data: the models a member may use, in the picker's groups, with their facts.

The team's default first, then the member's recent models, then the rest by family in catalogue
order. The page renders the groups into its <select name="model"> and hands the same data to
static/chat/picker.js as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.models import ChatModel, Conversation
from chat.models.catalogue import price_tiers

RECENT_MODELS = 3
# The latest conversations looked at for the recent models: enough for three distinct ones in
# practice, few enough that the query stays small however long the history.
RECENT_SCAN = 30


def recent_model_names(user) -> list[str]:
    """The distinct models of the member's latest conversations, newest first: one query."""
    names = (
        Conversation.objects.owned_by(user)
        .order_by("-updated", "-id")
        .values_list("model", flat=True)[:RECENT_SCAN]
    )
    return list(dict.fromkeys(name for name in names if name))


@dataclass
class PickerGroup:
    key: str
    label: str
    models: list[ChatModel] = field(default_factory=list)


def groups(models: list[ChatModel], recent: list[str]) -> list[PickerGroup]:
    """Each model once: the team's default, then up to three recent ones, then by family."""
    by_name = {m.name: m for m in models}
    default = next((m for m in models if m.is_default), None)
    found: list[PickerGroup] = []
    placed: set[str] = set()
    if default is not None:
        found.append(PickerGroup("default", str(_("Team default")), [default]))
        placed.add(default.name)
    latest = [by_name[name] for name in recent if name in by_name and name not in placed][:RECENT_MODELS]
    if latest:
        found.append(PickerGroup("recent", str(_("Recently used")), latest))
        placed.update(m.name for m in latest)
    families: dict[str, PickerGroup] = {}
    for model in models:
        if model.name in placed:
            continue
        family = model.family or ""
        if family not in families:
            label = gettext(family) if family else str(_("Other models"))
            families[family] = PickerGroup("family-" + str(len(families) + 1), label)
        families[family].models.append(model)
    return found + list(families.values())


def entry(model: ChatModel, tier: int | None) -> dict:
    """What the picker shows of a model. Seeded descriptions are in the translation catalogue."""
    return {
        "name": model.name,
        "label": model.label or model.name,
        "family": gettext(model.family) if model.family else "",
        "description": gettext(model.description) if model.description else "",
        "reasoning": model.is_reasoning,
        "vision": model.vision,
        "long_context": model.long_context,
        "context_window": model.context_window,
        "price_tier": tier,
        "input_price": None if model.input_price is None else f"{model.input_price.normalize():f}",
        "output_price": None if model.output_price is None else f"{model.output_price.normalize():f}",
        # What the conversation settings panel offers for it (static/chat/conversation-settings.js).
        "takes_temperature": model.takes_temperature,
        "reasoning_efforts": model.efforts,
        "default_reasoning_effort": model.default_reasoning_effort or None,
        "max_output_limit": model.max_output_limit,
    }


def picker_data(picker_groups: list[PickerGroup], models: list[ChatModel]) -> dict:
    """The JSON for picker.js (json_script): the groups by name, and every model's facts."""
    tiers = price_tiers(models)
    return {
        "currency": settings.TOKENOFF_CURRENCY,
        "groups": [
            {"key": g.key, "label": g.label, "models": [m.name for m in g.models]} for g in picker_groups
        ],
        "models": {m.name: entry(m, tiers.get(m.name)) for m in models},
    }
