"""A new chat's parameters in its first `send` (issue 16, item 2): checked against the model, stored on the
new conversation, carried by its first request, said by `started` and `done`, and read back after a reload
(thread.json and the page's own state)."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.test import Client

from chat.models import ChatModel, Conversation, Message
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest_asyncio.fixture
async def socket(alice, team_key, fake):
    opened = await connected(alice)
    yield opened
    await opened.disconnect()


async def test_a_new_chat_keeps_the_parameters_sent_with_its_first_message(socket, fake):
    chosen = {"reasoning_effort": "high", "max_tokens": 700}
    await socket.send_json_to({**send_frame("Hello", model="gpt-5"), "parameters": chosen})
    frames = await frames_until(socket, "done")
    started, done = frames[0], frames[-1]
    conversation = await sync_to_async(Conversation.objects.get)(pk=started["conversation"])
    assert conversation.parameters == chosen
    body = chat_requests(fake)[-1].body
    assert (body["reasoning_effort"], body["max_completion_tokens"]) == ("high", 700)
    assert started["parameters"] == done["parameters"] == chosen

    # The next message of the conversation is sent with them too, without saying them again.
    await socket.send_json_to(send_frame("More", conversation=conversation.pk, client_id="c2"))
    await frames_until(socket, "done")
    assert chat_requests(fake)[-1].body["reasoning_effort"] == "high"


async def test_values_given_as_text_are_stored_as_the_settings_form_stores_them(socket, fake):
    given = {"temperature": "0.25", "max_tokens": "300", "reasoning_effort": None}
    await socket.send_json_to({**send_frame("Hello", model="gpt-4.1"), "parameters": given})
    started = (await frames_until(socket, "done"))[0]
    conversation = await sync_to_async(Conversation.objects.get)(pk=started["conversation"])
    assert conversation.parameters == {"temperature": 0.25, "max_tokens": 300}
    body = chat_requests(fake)[-1].body
    assert (body["temperature"], body["max_tokens"]) == (0.25, 300)


async def test_parameters_with_an_existing_conversation_are_a_bad_request(socket, alice, fake):
    conversation = await sync_to_async(Conversation.objects.create)(owner=alice, title="t", model="gpt-5")
    frame = {**send_frame("Hi", conversation=conversation.pk), "parameters": {"reasoning_effort": "high"}}
    await socket.send_json_to(frame)
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("bad_request", "c1")
    assert "new conversation" in error["message"]
    assert not await sync_to_async(Message.objects.exists)() and chat_requests(fake) == []
    await sync_to_async(conversation.refresh_from_db)()
    assert conversation.parameters == {}


@pytest.mark.parametrize(
    "parameters",
    [
        {"temperature": 0.5},  # gpt-5 takes no temperature
        {"reasoning_effort": "xhigh"},  # nor this effort
        {"reasoning_effort": "high\x00"},
        {"max_tokens": 0},
        {"max_tokens": 1.5},
        {"max_tokens": 128_001},  # past the model's maximum
        {"max_tokens": 10**30},
        {"max_tokens": 1e300},
        {"max_tokens": "nan"},
        {"max_tokens": "Infinity"},
        {"max_tokens": True},
        {"max_tokens": [1]},
        {"max_tokens": {"a": 1}},
        {"temprature": 1},  # a name it does not know
        {"x" * 100: 1},
        {"\x00": 1},
        {str(n): n for n in range(20)},
        "high",
        [],
        5,
    ],
)
async def test_a_value_the_model_refuses_or_no_value_at_all_is_a_bad_request(parameters, socket, fake):
    await socket.send_json_to({**send_frame("Hello", model="gpt-5"), "parameters": parameters})
    error = await socket.receive_json_from()
    assert (error["type"], error["code"], error["id"]) == ("error", "bad_request", "c1"), error
    assert "parameters" in error["message"]
    assert not await sync_to_async(Conversation.objects.exists)() and chat_requests(fake) == []
    # The socket is still open and a good send goes through.
    await socket.send_json_to(send_frame("Hello", model="gpt-5", client_id="c2"))
    assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    "raw",
    [
        '{"type":"send","id":"c1","conversation":null,"content":"Hi","parameters":{"max_tokens":NaN}}',
        '{"type":"send","id":"c1","conversation":null,"content":"Hi","parameters":{"max_tokens":1e400}}',
        '{"type":"send","id":"c1","conversation":null,"content":"Hi","parameters":{"temperature":-1e400}}',
    ],
)
async def test_numbers_json_cannot_hold_are_a_bad_request(raw, socket, fake):
    await socket.send_to(text_data=raw)
    error = await socket.receive_json_from()
    assert error["code"] == "bad_request"
    assert not await sync_to_async(Conversation.objects.exists)() and chat_requests(fake) == []


async def test_without_a_maximum_in_the_table_the_longest_reply_still_has_a_ceiling(socket, fake):
    await sync_to_async(ChatModel.objects.filter(name="gpt-4.1").update)(max_output_limit=None)
    await socket.send_json_to({**send_frame("Hello", model="gpt-4.1"), "parameters": {"max_tokens": 10**9}})
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("bad_request", "c1")
    assert not await sync_to_async(Conversation.objects.exists)()


async def test_after_a_reload_each_reply_says_what_it_was_sent_with(socket, alice, fake):
    chosen = {"reasoning_effort": "low"}
    await socket.send_json_to({**send_frame("Hello", model="gpt-5"), "parameters": chosen})
    done = (await frames_until(socket, "done"))[-1]
    client = Client()
    await sync_to_async(client.force_login)(alice)
    thread = await sync_to_async(client.get)(f"/c/{done['conversation']}/thread.json")
    page = await sync_to_async(client.get)(f"/c/{done['conversation']}/")
    state = page.content.decode().split('id="chat-state" type="application/json">')[1].split("</script>")[0]
    for messages in (json.loads(thread.content)["messages"], json.loads(state)["messages"]):
        question, reply = messages
        assert (question["parameters"], reply["parameters"]) == (None, done["parameters"])
        assert reply["parameters"]["reasoning_effort"] == "low"
