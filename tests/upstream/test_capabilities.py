"""The capability table is right: every setting it offers, for every catalogue model, is taken by the fake
upstream, which refuses parameters per model family as the real API does (chat/demo/parameters.py); a
wrong row is refused, and the page hears why by code."""

from __future__ import annotations

import copy

import pytest
from asgiref.sync import sync_to_async

from chat.models import ApiKey, ChatModel, Message
from chat.models.catalogue import VERBOSITIES
from chat.upstream import client as upstream
from tests.conftest import CANARY_KEY
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def offered(model: ChatModel) -> list[dict]:
    """Every setting the row offers, one at a time, then all the highest at once."""
    settings: list[dict] = [{}]
    settings += [{"reasoning_effort": effort} for effort in model.efforts]
    if model.takes_temperature:
        settings += [{"temperature": 0.0}, {"temperature": 2.0}]
    if model.takes_top_p:
        settings += [{"top_p": 0.0}, {"top_p": 1.0}]
    if model.takes_verbosity:
        settings += [{"verbosity": value} for value in VERBOSITIES]
    if model.max_output_limit:
        settings.append({"max_output_tokens": model.max_output_limit})
    highest = {key: value for setting in settings for key, value in setting.items()}
    return [*settings, highest]


async def test_every_offered_setting_of_every_catalogue_model_is_taken(fake):
    key = ApiKey(encrypted="", last4="")
    key.set_secret(CANARY_KEY)
    catalogue = await sync_to_async(list)(ChatModel.objects.all())
    assert len(catalogue) == 24
    sent = 0
    for model in catalogue:
        for setting in offered(model):
            candidate = copy.copy(model)
            for field, value in setting.items():
                setattr(candidate, field, value)
            candidate.clean_fields()
            candidate.clean()  # the admin would accept it
            messages = [{"role": "user", "content": "[fake:chunks=1]"}]
            async with upstream.open_stream(key, candidate, messages) as stream:
                assert [piece async for piece in stream] == ["word1"], (model.name, setting)
            sent += 1
    assert sent > 150
    chat = [request for request in fake.requests if request.path.endswith("/chat/completions")]
    assert len(chat) == sent and {request.status for request in chat} == {200}
    # Every parameter the table can offer reached the upstream at least once.
    keys = set().union(*(request.body for request in chat))
    assert {"temperature", "top_p", "reasoning_effort", "verbosity"} <= keys
    assert {"max_tokens", "max_completion_tokens"} <= keys


async def failed_reply(alice, content: str, model: str) -> tuple[dict, Message]:
    socket = await connected(alice)
    await socket.send_json_to(send_frame(content, model=model))
    frames = await frames_until(socket, "done")
    await socket.disconnect()
    error = next(frame for frame in frames if frame["type"] == "error")
    assert frames[-1]["finish_reason"] == "error"
    reply = await Message.objects.aget(pk=frames[-1]["message"])
    assert reply.error_code == error["code"]
    return error, reply


async def test_a_wrong_row_is_refused_and_the_page_hears_unsupported_parameter(alice, team_key, fake):
    # Wrong: o3 takes no temperature, but this row says it does.
    await ChatModel.objects.filter(name="o3").aupdate(takes_temperature=True, temperature=0.7)
    error, _reply = await failed_reply(alice, "Think", "o3")
    assert error["code"] == "unsupported_parameter"
    assert "(temperature)" in error["message"] and "admin should correct" in error["message"]
    assert fake.requests[-1].status == 400


async def test_a_conversation_too_long_for_the_model_is_context_length_exceeded(alice, team_key, fake):
    error, _reply = await failed_reply(
        alice, "[fake:window=2] a question longer than eight characters", "gpt-4o"
    )
    assert error["code"] == "context_length_exceeded"
    assert "Start a new chat" in error["message"]
