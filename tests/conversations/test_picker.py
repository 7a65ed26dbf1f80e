"""The model picker's data on the chat page: the team's default first, the member's recent models next,
then the families; the same order in the <select name="model"> and in the JSON for picker.js."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from chat.conversations import picker
from chat.models import ChatModel, Conversation

pytestmark = pytest.mark.django_db


def talk(owner, model: str, minutes_ago: int) -> Conversation:
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return Conversation.objects.create(owner=owner, title=model, model=model, created=when, updated=when)


def catalogue_of(html: str) -> dict:
    found = re.search(r'<script id="model-catalogue" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page carries the picker's data"
    return json.loads(found.group(1))


def select_of(html: str) -> str:
    start = html.index('<select id="model-select"')
    return html[start : html.index("</select>", start)]


def test_the_default_comes_first_then_the_members_recent_models_then_the_families(client, alice, bob):
    talk(alice, "o3", 30)
    talk(alice, "gpt-4o", 20)
    talk(alice, "gpt-4.1", 10)  # the default: on top already, not again under "recent"
    talk(alice, "o3", 5)
    talk(alice, "gpt-5-mini", 1)
    talk(alice, "gpt-5.4", 50)  # a fourth recent model: only three are shown
    talk(bob, "gpt-4.1-nano", 0)  # someone else's never count
    client.force_login(alice)

    data = catalogue_of(client.get("/").content.decode())

    groups = data["groups"]
    assert [g["key"] for g in groups[:2]] == ["default", "recent"]
    assert groups[0]["models"] == ["gpt-4.1"]
    assert groups[1]["models"] == ["gpt-5-mini", "o3", "gpt-4o"]
    families = [g["label"] for g in groups[2:]]
    assert families == ["GPT-5", "GPT-4.1", "GPT-4o", "o-series", "Codex"]
    listed = [name for g in groups for name in g["models"]]
    assert sorted(listed) == sorted(ChatModel.objects.values_list("name", flat=True))  # each model once
    assert "gpt-5-mini" not in groups[2]["models"] and "gpt-5.4" in groups[2]["models"]


def test_the_select_lists_the_models_in_the_pickers_groups_and_order(client, alice):
    talk(alice, "o3", 1)
    client.force_login(alice)
    html = client.get("/").content.decode()

    data = catalogue_of(html)
    select = select_of(html)
    assert re.findall(r'<optgroup label="([^"]+)"', select)[:3] == ["Team default", "Recently used", "GPT-5"]
    in_select = re.findall(r'<option value="([^"]+)"', select)
    assert in_select == [name for g in data["groups"] for name in g["models"]]
    assert '<option value="gpt-4.1" selected' in select


def test_each_model_carries_its_label_description_capabilities_and_price_tier(client, alice):
    for name, inp, out in [("gpt-4.1-nano", "0.1", "0.4"), ("gpt-4.1", "2", "8"), ("o3-pro", "20", "80")]:
        ChatModel.objects.filter(name=name).update(input_price=Decimal(inp), output_price=Decimal(out))
    client.force_login(alice)

    models = catalogue_of(client.get("/").content.decode())["models"]

    assert models["gpt-4.1"] == {
        "name": "gpt-4.1",
        "label": "GPT-4.1",
        "family": "GPT-4.1",
        "description": ChatModel.objects.get(name="gpt-4.1").description,
        "reasoning": False,
        "vision": True,
        "long_context": True,
        "context_window": 1_047_576,
        "price_tier": 2,
        "input_price": "2",
        "output_price": "8",
        "takes_temperature": True,
        "reasoning_efforts": [],
        "default_reasoning_effort": None,
        "max_output_limit": 32_768,
    }
    assert models["gpt-4.1-nano"]["price_tier"] == 1 and models["o3-pro"]["price_tier"] == 3
    assert models["o3"]["reasoning"] and models["o3"]["long_context"]  # 200,000 tokens: long
    assert not models["gpt-4o"]["long_context"] and not models["o3-mini"]["vision"]
    assert models["gpt-4o"]["price_tier"] is None  # no prices, no tier


def test_only_usable_models_reach_the_picker(client, alice):
    ChatModel.objects.filter(name="gpt-4o").update(enabled=False)
    talk(alice, "gpt-4o", 1)  # used before it was turned off: not offered again
    client.force_login(alice)
    data = catalogue_of(client.get("/").content.decode())
    assert "gpt-4o" not in data["models"]
    assert all(g["key"] != "recent" for g in data["groups"])


def test_the_recent_models_take_one_query(alice, django_assert_num_queries):
    for minutes, model in enumerate(["o3", "o3", "gpt-4o", "", "gpt-5"]):
        talk(alice, model, minutes)
    with django_assert_num_queries(1):
        assert picker.recent_model_names(alice) == ["o3", "gpt-4o", "gpt-5"]
