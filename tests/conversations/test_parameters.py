"""A conversation's own parameters (issue 16, items 2 and 5): offered, saved and checked per model, sent
filtered by the model's table, recorded on each reply; the upstream's cached and reasoning counts kept,
shown and priced."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from chat.conversations import exports, parameters
from chat.models import ChatModel, Conversation, Message
from chat.usage import accounting
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

async_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def model(name: str) -> ChatModel:
    return ChatModel.objects.get(name=name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "chosen", "sent"),
    [
        ("gpt-5.1", "minimal", "low"),  # 5.1 refuses minimal: the nearest, higher on a tie
        ("gpt-5", "none", "minimal"),
        ("gpt-5", "xhigh", "high"),
        ("o3", "minimal", "low"),
        ("gpt-5.2", "xhigh", "xhigh"),
        ("gpt-4.1", "high", None),  # no effort at all: left out
    ],
)
def test_an_effort_the_model_refuses_becomes_the_nearest_it_takes(name, chosen, sent):
    assert parameters.effective(model(name), {"reasoning_effort": chosen}).get("reasoning_effort") == sent


@pytest.mark.django_db
def test_what_the_model_does_not_take_is_left_out_and_the_length_capped():
    chosen = {"temperature": 0.3, "max_tokens": 10**6}
    assert parameters.effective(model("gpt-4.1"), chosen) == {"temperature": 0.3, "max_tokens": 32_768}
    assert parameters.effective(model("o3"), chosen) == {"max_tokens": 100_000}


@pytest.fixture
def talk(alice):
    return Conversation.objects.create(owner=alice, title="t", model="gpt-5")


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def post(client, conversation, data):
    return client.post(f"/c/{conversation.pk}/settings/", data, HTTP_ACCEPT="application/json")


def test_the_settings_save_what_the_model_takes_and_refuse_the_rest(as_alice, talk):
    response = post(as_alice, talk, {"reasoning_effort": "minimal", "max_tokens": "500"})
    assert response.status_code == 200
    assert json.loads(response.content)["parameters"] == {"reasoning_effort": "minimal", "max_tokens": 500}
    for refused in (
        {"temperature": "0.5"},  # gpt-5 takes none
        {"reasoning_effort": "xhigh"},
        {"max_tokens": "128001"},
        {"max_tokens": "1.5"},
        {"max_tokens": "nan"},
        {"reasoning_effort": "high\x00"},
    ):
        response = post(as_alice, talk, refused)
        assert response.status_code == 400, refused
        assert set(json.loads(response.content)["errors"]) == set(refused)
    # A model switch in the same request is checked against the new model; an empty value clears.
    response = post(as_alice, talk, {"model": "gpt-4.1", "temperature": "0.7", "max_tokens": ""})
    assert response.status_code == 200
    talk.refresh_from_db()
    assert (talk.model, talk.parameters) == ("gpt-4.1", {"reasoning_effort": "minimal", "temperature": 0.7})


def test_the_panel_has_the_conversations_choices_and_the_models_capabilities(as_alice, talk):
    talk.parameters = {"reasoning_effort": "high", "temperature": 0.5}
    talk.save()
    page = as_alice.get(f"/c/{talk.pk}/").content.decode()
    assert 'data-reasoning-effort="high"' in page and 'data-temperature="0.5"' in page
    script = page.split('id="model-catalogue" type="application/json">')[1]
    catalogue = json.loads(script.split("</script>")[0])
    gpt5 = catalogue["models"]["gpt-5"]
    assert gpt5["reasoning_efforts"] == ["minimal", "low", "medium", "high"]
    assert (gpt5["takes_temperature"], gpt5["max_output_limit"]) == (False, 128_000)


@async_db
async def test_a_reply_is_sent_with_the_conversations_parameters_and_records_them(alice, team_key, fake):
    await sync_to_async(ChatModel.objects.filter(name="gpt-5.1").update)(
        input_price=Decimal("1"), cached_input_price=Decimal("0.1"), output_price=Decimal("10")
    )
    conversation = await sync_to_async(Conversation.objects.create)(
        owner=alice, title="t", model="gpt-5.1", parameters={"reasoning_effort": "minimal", "max_tokens": 900}
    )
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:cached=5] [fake:reasoning=7]", conversation=conversation.pk))
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    body = chat_requests(fake)[-1].body
    # gpt-5.1 refuses minimal: the nearest it takes goes; a reasoning model's cap is max_completion_tokens.
    assert (body["reasoning_effort"], body["max_completion_tokens"]) == ("low", 900)
    assert done["parameters"] == {"reasoning_effort": "low", "max_tokens": 900}
    assert done["usage"]["prompt_tokens_details"] == {"cached_tokens": 5}
    assert done["usage"]["completion_tokens_details"] == {"reasoning_tokens": 7}
    reply = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert (reply.parameters, reply.cached_tokens, reply.reasoning_tokens) == (done["parameters"], 5, 7)
    prompt, completion = reply.prompt_tokens, reply.completion_tokens
    expected = (Decimal(prompt - 5) * 1 + Decimal(5) * Decimal("0.1") + Decimal(completion) * 10) / 1_000_000
    assert reply.cost == expected.quantize(Decimal("0.000001"))


def test_cached_input_costs_the_cached_price_only_when_the_catalogue_has_one():
    counted = accounting.Usage(prompt_tokens=1000, completion_tokens=100, cached_tokens=800)
    assert accounting.cost_of(counted, Decimal(2), Decimal(8), Decimal("0.5")) == Decimal("0.001600")
    assert accounting.cost_of(counted, Decimal(2), Decimal(8)) == Decimal("0.002800")


@pytest.mark.django_db
def test_the_exports_say_what_each_reply_was_sent_with_and_the_details(talk):
    question = Message.objects.create(conversation=talk, role="user", content="Hi")
    reply = Message.objects.create(
        conversation=talk,
        parent=question,
        role="assistant",
        content="Hello",
        model="gpt-5",
        parameters={"reasoning_effort": "high"},
        usage={
            "prompt_tokens": 1000,
            "completion_tokens": 234,
            "total_tokens": 1234,
            "prompt_tokens_details": {"cached_tokens": 900},
            "completion_tokens_details": {"reasoning_tokens": 200},
        },
    )
    data = exports.as_json(talk, [question, reply])
    assert data["messages"][1]["parameters"] == {"reasoning_effort": "high"}
    text = exports.as_markdown(talk, [question, reply])
    assert "## Assistant (gpt-5, reasoning_effort high, 1234 tokens (900 cached, 200 reasoning))" in text
