"""Issue 16's "never overflow": a 300-turn conversation on the smallest-window model, through the real
site (the socket, store.begin's Conversation.upstream_messages, the openai SDK) to the fake upstream,
whose window is set as small as the catalogue row's so that the branch must be cut many times."""

from __future__ import annotations

import itertools

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatModel, Conversation
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WINDOW = 1200
TURNS = 300
SYSTEM = "You are a patient assistant."


@sync_to_async
def smallest_window_model(alice) -> str:
    model = ChatModel.objects.usable_by(alice).exclude(context_window=None).order_by("context_window").first()
    ChatModel.objects.filter(pk=model.pk).update(context_window=WINDOW)
    return model.name


@sync_to_async
def conversation_of(alice, model: str) -> Conversation:
    return Conversation.objects.create(owner=alice, title="long", model=model, system_prompt=SYSTEM)


async def test_three_hundred_turns_stream_with_no_overflow_and_the_system_prompt_in_every_request(
    alice, team_key, fake, settings
):
    # One member sending as fast as replies end: past the socket's rate limits, which are not on test.
    settings.TOKENOFF_SENDS_PER_MINUTE = settings.TOKENOFF_FRAME_BURST = TURNS
    model = await smallest_window_model(alice)
    conversation = await conversation_of(alice, model)
    socket = await connected(alice)
    for turn in range(TURNS):
        question = f"[fake:window={WINDOW}] [fake:chunks=4] question number {turn}, briefly"
        await socket.send_json_to(send_frame(question, conversation=conversation.pk, client_id=f"c{turn}"))
        done = (await frames_until(socket, "done"))[-1]
        assert done["finish_reason"] == "stop", (turn, done)
    await socket.disconnect()
    requests = chat_requests(fake)
    assert len(requests) == TURNS and all(r.status == 200 for r in requests)
    first_question = requests[0].body["messages"][1]
    cuts = 0
    for before, after in itertools.pairwise(requests):
        messages = after.body["messages"]
        assert messages[0] == {"role": "system", "content": SYSTEM}
        assert messages[1] == first_question and messages[2]["role"] == "assistant"
        assert messages[-1]["content"].endswith(", briefly")
        if messages[: len(before.body["messages"])] != before.body["messages"]:
            cuts += 1
    # Cut in blocks, several times: the prefix stays the same on most turns, so the prompt cache hits.
    assert 5 <= cuts <= TURNS // 5
