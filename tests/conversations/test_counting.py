"""POST /c/count.json: the meter's count against what the upstream then reports, and odd requests."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from chat.models import ChatModel, Conversation
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

URL = reverse("chat:count")
CODE = """Fix this, please:

```python
def mean(values: list[float]) -> float:
    total = 0
    for v in values:
        total += v
    return total / len(values)  # ZeroDivisionError on []
```
"""
LONG_TURNS = [
    f"Turn {i}: tell me one more fact about the number {i * 37}, and why it matters." for i in range(12)
]
# Each fixture: the system prompt of the new chat (None: none), then the questions, one send each.
FIXTURES = {
    "short": (None, ["Hello"]),
    "system prompt": (
        "You are a concise assistant for our support team. Answer in two lines.",
        ["Hi", "Why?"],
    ),
    "long multi-turn": (None, LONG_TURNS),
    "Chinese": ("请用中文回答。", ["你好，请介绍一下长城的历史。", "它有多长？为什么要修建它？"]),  # noqa: RUF001
    "code": (None, [CODE, "And with numpy?\n\n    import numpy as np\n    np.mean([])"]),
}


def counted(client: Client, **fields) -> dict:
    response = client.post(URL, fields)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("fixture", FIXTURES)
async def test_the_meter_is_within_5_percent_of_what_the_upstream_reports(fixture, alice, team_key, fake):
    system_prompt, questions = FIXTURES[fixture]
    client = Client()
    await sync_to_async(client.force_login)(alice)
    socket = await connected(alice)
    conversation = None
    for turn, question in enumerate(questions):
        fields = {"conversation": conversation or "", "model": "gpt-4.1", "draft": question}
        frame = send_frame(question, conversation, client_id=f"c{turn}", model="gpt-4.1")
        if conversation is None and system_prompt is not None:
            fields["system_prompt"] = frame["system_prompt"] = system_prompt
        estimate = await sync_to_async(counted)(client, **fields)
        await socket.send_json_to(frame)
        frames = await frames_until(socket, "done")
        conversation = frames[0]["conversation"]
        reported = frames[-1]["usage"]["prompt_tokens"]  # the fake's, through the openai SDK path
        assert estimate["exact"] is True
        assert abs(estimate["tokens"] - reported) <= 0.05 * reported, (fixture, turn, estimate, reported)
    await socket.disconnect()


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def test_the_branch_system_prompt_and_draft_are_counted_against_the_window(signed_in, alice):
    ChatModel.objects.filter(name="gpt-4.1").update(input_price=Decimal("2"), context_window=1_000_000)
    empty = counted(signed_in, conversation="", model="gpt-4.1", draft="")
    assert empty == {
        "model": "gpt-4.1",
        "tokens": 3 + 3 + 1,  # priming, the draft's markers, "user"
        "window": 1_000_000,
        "fits": True,
        "reply_room": 1_000_000 - 7,
        "exact": True,
        "encoding": "o200k_base",
        "cost": {"amount": "0.000014", "currency": "USD"},
    }
    with_prompt = counted(signed_in, model="gpt-4.1", draft="hi there", system_prompt="You are terse.")
    assert with_prompt["tokens"] == 7 + 2 + 3 + 1 + 4  # + "hi there", + a system message


def test_a_conversation_counts_its_branch_and_its_own_system_prompt(signed_in, alice):
    conversation = Conversation.objects.create(
        owner=alice, title="t", model="gpt-4o", system_prompt="You are terse."
    )
    question = conversation.messages.create(role="user", content="hi there")
    conversation.messages.create(role="assistant", content="Hello!", parent=question)
    found = counted(signed_in, conversation=str(conversation.pk), draft="")
    # priming 3; system 3+1+4; user 3+1+2; assistant 3+1+2 ("Hello!"); the draft 3+1
    assert (found["model"], found["tokens"], found["window"]) == ("gpt-4o", 3 + 8 + 6 + 6 + 4, 128_000)


def test_a_small_window_does_not_fit_and_other_models_are_an_estimate(signed_in):
    ChatModel.objects.create(name="tiny-chat", label="Tiny", context_window=10, enabled=True)
    found = counted(signed_in, model="tiny-chat", draft="one two three four five six seven")
    assert (found["fits"], found["reply_room"], found["exact"], found["cost"]) == (False, 0, False, None)
    ChatModel.objects.filter(name="tiny-chat").update(context_window=None)
    unknown = counted(signed_in, model="tiny-chat", draft="hi")
    assert (unknown["window"], unknown["fits"], unknown["reply_room"]) == (None, True, None)


def test_someone_elses_conversation_is_not_found(signed_in, bob):
    theirs = Conversation.objects.create(owner=bob, title="secret", model="gpt-4.1", system_prompt="x" * 900)
    assert signed_in.post(URL, {"conversation": str(theirs.pk), "draft": "hi"}).status_code == 404
    assert signed_in.post(URL, {"conversation": "987654321", "draft": "hi"}).status_code == 404


def test_only_a_signed_in_post_with_the_csrf_token_counts(client, alice):
    assert client.post(URL, {"draft": "hi"}).status_code == 302  # to the log-in page
    client.force_login(alice)
    assert client.get(URL).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(URL, {"draft": "hi"}).status_code == 403


@pytest.mark.parametrize(
    "fields",
    [
        {"conversation": "٣"},
        {"conversation": "-1"},
        {"conversation": "1\x00"},
        {"conversation": str(2**63)},
        {"draft": "a\x00b"},
        {"draft": "x" * 32_001},
        {"system_prompt": "y" * 32_001},
        {"model": "gpt\x00"},
        {"model": "m" * 101},
        {"model": "no-such-model"},
    ],
)
def test_odd_input_is_refused(signed_in, fields):
    response = signed_in.post(URL, fields)
    assert response.status_code == 400 and json.loads(response.content)["error"]


def test_a_system_prompt_is_for_a_new_chat_and_a_disabled_model_is_refused(signed_in, alice):
    mine = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    assert signed_in.post(URL, {"conversation": str(mine.pk), "system_prompt": "x"}).status_code == 400
    ChatModel.objects.filter(name="gpt-4o").update(enabled=False)
    assert signed_in.post(URL, {"model": "gpt-4o"}).status_code == 400
    assert counted(signed_in, draft="x" * 32_000)["tokens"] > 3000  # the composer's own limit is fine
