"""The catalogue's facts for the model picker: seeded by migration 0013, kept when edited, and derived."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from chat.models import ChatModel
from chat.models.catalogue import LONG_CONTEXT_TOKENS, price_tiers

pytestmark = pytest.mark.django_db

seed = importlib.import_module("chat.migrations.0002_seed_catalogue")
picker_migration = importlib.import_module("chat.migrations.0013_catalogue_picker")


def test_every_seeded_model_has_a_description_a_family_and_a_context_window():
    seeded = [name for name, _label in seed.MODELS]
    assert len(seeded) == 24 and set(picker_migration.FACTS) == set(seeded)
    for model in ChatModel.objects.filter(name__in=seeded):
        assert model.description and model.family and model.context_window, model.name
        assert len(model.description) <= 300 and "\n" not in model.description


def test_the_seeded_facts_are_the_public_ones():
    facts = {m.name: (m.family, m.vision, m.context_window) for m in ChatModel.objects.all()}
    assert facts["gpt-4.1"] == ("GPT-4.1", True, 1_047_576)
    assert facts["gpt-4o"] == ("GPT-4o", True, 128_000)
    assert facts["o3"] == ("o-series", True, 200_000) and facts["o4-mini"][2] == 200_000
    assert facts["o3-mini"][1] is False  # text only
    assert facts["gpt-5"] == ("GPT-5", True, 400_000)
    assert facts["gpt-5.3-codex-spark"] == ("Codex", False, 128_000)


def test_the_seed_fills_only_empty_fields_so_an_admins_edits_survive():
    edits = {"description": "Ours.", "family": "Everyday", "context_window": 64_000}
    ChatModel.objects.filter(name="gpt-4o").update(**edits)
    ChatModel.objects.filter(name="o3").update(description="", family="", context_window=None)
    picker_migration.fill(apps, None)
    edited = ChatModel.objects.get(name="gpt-4o")
    assert (edited.description, edited.family, edited.context_window) == ("Ours.", "Everyday", 64_000)
    emptied = ChatModel.objects.get(name="o3")
    assert emptied.family == "o-series" and emptied.context_window == 200_000 and emptied.description


def test_long_context_starts_at_the_constant():
    assert LONG_CONTEXT_TOKENS == 200_000
    assert ChatModel(name="a", context_window=200_000).long_context
    assert not ChatModel(name="b", context_window=128_000).long_context
    assert not ChatModel(name="c").long_context


def priced(name: str, inp: str | None, out: str | None) -> ChatModel:
    return ChatModel(
        name=name,
        input_price=None if inp is None else Decimal(inp),
        output_price=None if out is None else Decimal(out),
    )


def test_the_relative_price_comes_from_the_blended_price_against_the_median():
    models = [
        priced("nano", "0.10", "0.40"),  # blended 0.175
        priced("mini", "0.40", "1.60"),  # 0.7
        priced("full", "2", "8"),  # 3.5 (the median)
        priced("big", "5", "20"),  # 8.75
        priced("pro", "20", "80"),  # 35
        priced("free-form", None, "8"),  # no tier without both prices
        priced("unpriced", None, None),
    ]
    assert price_tiers(models) == {"nano": 1, "mini": 1, "full": 2, "big": 3, "pro": 3}
    assert price_tiers([priced("x", None, None)]) == {}
    mostly_free = [priced("free", "0", "0"), priced("also-free", "0", "0"), priced("paid", "1", "1")]
    assert price_tiers(mostly_free) == {"free": 1, "also-free": 1, "paid": 3}


def test_the_admin_edits_the_pickers_facts_and_lists_family_and_vision(admin_client):
    model = ChatModel.objects.get(name="gpt-4o")
    url = f"/admin/chat/chatmodel/{model.pk}/change/"
    page = admin_client.get(url).content.decode()
    for field in ("family", "description", "vision", "context_window"):
        assert f'name="{field}"' in page
    form = {
        "name": model.name,
        "label": model.label,
        "enabled": "on",
        "sort_order": model.sort_order,
        "family": "Everyday",
        "description": "Our pick for everyday questions.",
        "context_window": 128_000,
    }
    assert admin_client.post(url, form).status_code == 302
    model.refresh_from_db()
    assert (model.family, model.vision) == ("Everyday", False)
    assert model.description == "Our pick for everyday questions."
    listing = admin_client.get("/admin/chat/chatmodel/").content.decode()
    assert "column-family" in listing and "column-vision" in listing and "Everyday" in listing
