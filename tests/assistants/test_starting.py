"""Starting a new chat from an assistant over the socket: its model, system prompt and parameters go
upstream, the conversation says which assistant; one the member may not use is not_found."""

from __future__ import annotations

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async

from chat.models import ChatModel, Conversation, Message
from tests.assistants.conftest import grant, make
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest_asyncio.fixture
async def socket(alice, team_key, fake):
    opened = await connected(alice)
    yield opened
    await opened.disconnect()


def frame_from(assistant_id: int, **extra) -> dict:
    return {**send_frame("Hello"), "assistant": assistant_id, **extra}


async def test_a_chat_started_from_an_assistant_sends_its_model_prompt_and_parameters(socket, alice, fake):
    assistant = await sync_to_async(make)(
        alice,
        name="Pirate",
        model="gpt-5",
        system_prompt="Talk like a pirate.",
        parameters={"max_tokens": 600},
    )
    # The assistant's settings win over the panel's: it is what the member chose to start from.
    await socket.send_json_to(frame_from(assistant.pk, model="gpt-4.1", system_prompt="Be plain."))
    started = (await frames_until(socket, "done"))[0]
    conversation = await sync_to_async(Conversation.objects.get)(pk=started["conversation"])
    assert (conversation.assistant_id, conversation.assistant_name) == (assistant.pk, "Pirate")
    assert (conversation.model, conversation.system_prompt) == ("gpt-5", "Talk like a pirate.")
    body = chat_requests(fake)[-1].body
    assert body["model"] == "gpt-5" and body["max_completion_tokens"] == 600
    assert body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}


async def test_a_shared_assistant_starts_a_chat_for_a_member_with_use(bob, alice, team_key, fake):
    await sync_to_async(grant)(alice, "publish_assistant")
    await sync_to_async(grant)(bob, "use_assistant")
    assistant = await sync_to_async(make)(alice, system_prompt="Shared words.", visibility="team")
    socket = await connected(bob)
    try:
        await socket.send_json_to(frame_from(assistant.pk))
        started = (await frames_until(socket, "done"))[0]
    finally:
        await socket.disconnect()
    conversation = await sync_to_async(Conversation.objects.get)(pk=started["conversation"])
    assert (conversation.owner_id, conversation.assistant_id) == (bob.pk, assistant.pk)
    assert chat_requests(fake)[-1].body["messages"][0]["content"] == "Shared words."


@pytest.mark.parametrize("case", ["another_members", "shared_without_use", "retired", "missing"])
async def test_an_assistant_the_member_may_not_use_is_not_found(socket, alice, bob, fake, case):
    if case == "another_members":
        assistant_id = (await sync_to_async(make)(bob)).pk
    elif case == "shared_without_use":
        assistant_id = (await sync_to_async(make)(bob, visibility="team")).pk
    elif case == "retired":
        assistant_id = (await sync_to_async(make)(alice, retired=True)).pk
    else:
        assistant_id = 987654
    await socket.send_json_to(frame_from(assistant_id))
    error = await socket.receive_json_from()
    assert (error["type"], error["code"], error["message"]) == ("error", "not_found", "No such assistant.")
    assert not await sync_to_async(Message.objects.exists)() and chat_requests(fake) == []


async def test_an_assistant_with_an_existing_conversation_is_a_bad_request(socket, alice, fake):
    assistant = await sync_to_async(make)(alice)
    conversation = await sync_to_async(Conversation.objects.create)(owner=alice, title="t", model="gpt-4.1")
    await socket.send_json_to({**send_frame("Hi", conversation=conversation.pk), "assistant": assistant.pk})
    error = await socket.receive_json_from()
    assert error["code"] == "bad_request" and "new conversation" in error["message"]
    await socket.send_json_to({**send_frame("Hi"), "assistant": "seven"})
    assert (await socket.receive_json_from())["code"] == "bad_request"


async def test_an_assistant_moved_to_a_model_that_takes_less_still_starts(socket, alice, fake):
    # Its temperature was for gpt-4.1; the replacement, a reasoning model, takes none: left out.
    assistant = await sync_to_async(make)(alice, model="gpt-4.1", parameters={"temperature": 0.2})
    await sync_to_async(type(assistant).move_model)("gpt-4.1", "gpt-5", alice)
    await socket.send_json_to(frame_from(assistant.pk))
    await frames_until(socket, "done")
    body = chat_requests(fake)[-1].body
    assert body["model"] == "gpt-5" and "temperature" not in body


async def test_an_assistant_whose_model_is_off_is_refused_as_the_model_is(socket, alice, fake):
    assistant = await sync_to_async(make)(alice, model="gpt-4.1")
    await sync_to_async(ChatModel.objects.filter(name="gpt-4.1").update)(enabled=False)
    await socket.send_json_to(frame_from(assistant.pk))
    error = await socket.receive_json_from()
    assert error["code"] == "model_unavailable"
