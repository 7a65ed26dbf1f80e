"""The catalogue's capability table: seeded by 0015, checked by clean(), edited in the admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from chat.models import ChatModel

pytestmark = pytest.mark.django_db


def row(name: str) -> ChatModel:
    return ChatModel.objects.get(name=name)


@pytest.mark.parametrize(
    ("name", "efforts", "default", "sampling", "verbosity", "limit"),
    [
        ("gpt-5", "minimal,low,medium,high", "medium", False, True, 128_000),
        ("gpt-5-nano", "minimal,low,medium,high", "medium", False, True, 128_000),
        ("gpt-5.1", "none,low,medium,high", "none", False, True, 128_000),
        ("gpt-5.2", "none,low,medium,high,xhigh", "none", False, True, 128_000),
        ("gpt-5.4-mini", "none,low,medium,high,xhigh", "none", False, True, 128_000),
        ("gpt-5.1-codex", "low,medium,high", "medium", False, False, 128_000),
        ("gpt-5.1-codex-mini", "medium,high", "medium", False, False, 128_000),
        ("gpt-5.3-codex", "low,medium,high,xhigh", "medium", False, False, 128_000),
        ("o3", "low,medium,high", "medium", False, False, 100_000),
        ("gpt-4.1", "", "", True, False, 32_768),
        ("gpt-4o-mini", "", "", True, False, 16_384),
    ],
)
def test_the_seeded_rows_say_what_each_model_takes(name, efforts, default, sampling, verbosity, limit):
    model = row(name)
    assert (model.reasoning_efforts, model.default_reasoning_effort) == (efforts, default)
    assert (model.takes_temperature, model.takes_top_p) == (sampling, sampling)
    assert (model.takes_verbosity, model.max_output_limit) == (verbosity, limit)
    model.full_clean()  # every seeded row is one the admin accepts


def test_every_catalogue_row_is_seeded():
    assert ChatModel.objects.count() == 24
    assert not ChatModel.objects.filter(is_reasoning=True, reasoning_efforts="").exists()
    assert not ChatModel.objects.filter(is_reasoning=True, takes_temperature=True).exists()


@pytest.mark.parametrize(
    ("name", "fields", "refused"),
    [
        ("gpt-5.1", {"reasoning_effort": "minimal"}, "reasoning_effort"),
        ("gpt-5", {"reasoning_effort": "xhigh"}, "reasoning_effort"),
        ("gpt-4.1", {"reasoning_effort": "low"}, "reasoning_effort"),
        ("o3", {"top_p": 0.5}, "top_p"),
        ("o3", {"verbosity": "low"}, "verbosity"),
        ("gpt-4.1", {"verbosity": "high"}, "verbosity"),
        ("gpt-4o", {"max_output_tokens": 16_385}, "max_output_tokens"),
        ("o3", {"reasoning_efforts": "low,extreme"}, "reasoning_efforts"),
        ("o3", {"reasoning_efforts": "low,low"}, "reasoning_efforts"),
        ("o3", {"default_reasoning_effort": "minimal"}, "default_reasoning_effort"),
    ],
)
def test_the_admins_choices_are_checked_against_what_the_model_takes(name, fields, refused):
    model = row(name)
    for field, value in fields.items():
        setattr(model, field, value)
    with pytest.raises(ValidationError) as caught:
        model.full_clean()
    assert refused in caught.value.message_dict


def test_choices_the_model_takes_are_sent():
    model = row("gpt-5")
    model.reasoning_effort, model.verbosity, model.max_output_tokens = "minimal", "low", 4000
    model.full_clean()
    assert model.request_parameters() == {
        "reasoning_effort": "minimal",
        "verbosity": "low",
        "max_completion_tokens": 4000,
    }
    chat = row("gpt-4.1")
    chat.temperature, chat.top_p = 0.2, 0.9
    chat.full_clean()
    assert chat.request_parameters() == {"temperature": 0.2, "top_p": 0.9}


def test_the_efforts_are_tidied_lowest_first():
    model = row("o3")
    model.reasoning_efforts = " high, low ,medium"
    model.full_clean()
    assert model.reasoning_efforts == "low,medium,high" and model.efforts == ["low", "medium", "high"]


def test_a_model_sync_adds_takes_nothing_it_might_refuse():
    ChatModel.sync([*ChatModel.objects.values_list("name", flat=True), "o5-preview", "gpt-6-chat"])
    guessed = row("o5-preview")
    assert (guessed.takes_temperature, guessed.takes_top_p, guessed.efforts) == (False, False, [])
    guessed.temperature, guessed.reasoning_effort = 0.5, "high"  # behind the admin's back
    assert guessed.request_parameters() == {}
    assert row("gpt-6-chat").takes_temperature


def test_the_admin_shows_the_capabilities(admin_client):
    page = admin_client.get(f"/admin/chat/chatmodel/{row('gpt-5.1').pk}/change/").content.decode()
    assert "Capabilities" in page
    for field in ["max_output_limit", "takes_temperature", "takes_top_p", "reasoning_efforts"]:
        assert f'name="{field}"' in page
    assert 'value="none,low,medium,high"' in page
    for field in ["default_reasoning_effort", "takes_verbosity", "top_p", "verbosity", "cached_input_price"]:
        assert f'name="{field}"' in page
