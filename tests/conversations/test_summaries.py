"""`/c/<id>/context/`: where the context starts, and "Summarise earlier messages" through the openai SDK
to the fake upstream, whose summary then goes upstream in place of the messages it covers."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client
from django.urls import reverse

from chat.conversations import context, summaries
from chat.conversations.summaries import SUMMARY_PROMPT
from chat.models import ChatModel, Conversation, Message
from chat.models.budgets import Budget, Spend, month_start
from chat.models.conversations import Summary
from chat.usage import accounting
from tests.conftest import chat_requests

pytestmark = pytest.mark.django_db

MODEL = "gpt-4o-mini"


def long_conversation(owner, turns: int = 80) -> Conversation:
    ChatModel.objects.filter(name=MODEL).update(context_window=3000, max_output_tokens=300)
    conversation = Conversation.objects.create(owner=owner, model=MODEL, system_prompt="Be kind.")
    parent = None
    for turn in range(turns):
        for role in ("user", "assistant"):
            content = f"{role} {turn}: " + "the quick brown fox jumps " * 3
            parent = Message.objects.create(
                conversation=conversation, parent=parent, role=role, content=content
            )
    Message.objects.create(conversation=conversation, parent=parent, role="user", content="And now?")
    return conversation


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_state_says_where_the_context_starts(alice):
    conversation = long_conversation(alice)
    answer = signed_in(alice).get(reverse("chat:context", args=[conversation.pk])).json()
    fitted = conversation.fitted_context()
    assert answer == {
        "context_start": fitted.context_start,
        "left_out": len(fitted.left_out),
        "summary": None,
    }
    assert answer["left_out"] > 0 and answer["context_start"] > 2
    short = Conversation.objects.create(owner=alice, model=MODEL)
    Message.objects.create(conversation=short, role="user", content="Hi")
    assert signed_in(alice).get(reverse("chat:context", args=[short.pk])).json()["context_start"] is None


def test_another_members_conversation_is_404_and_a_busy_one_409(alice, bob):
    conversation = long_conversation(alice)
    url = reverse("chat:context", args=[conversation.pk])
    assert signed_in(bob).get(url).status_code == 404
    assert signed_in(bob).post(url).status_code == 404
    Message.objects.create(conversation=conversation, role="assistant", status=Message.Status.STREAMING)
    assert signed_in(alice).post(url).status_code == 409
    assert not Summary.objects.exists()


def test_nothing_left_out_is_nothing_to_summarise(alice, team_key, fake):
    short = Conversation.objects.create(owner=alice, model=MODEL)
    Message.objects.create(conversation=short, role="user", content="Hi")
    answer = signed_in(alice).post(reverse("chat:context", args=[short.pk]))
    assert answer.status_code == 400 and not fake.requests


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_summary_is_written_and_sent_in_place_of_the_messages_left_out(alice, team_key, fake):
    conversation = await sync_to_async(long_conversation)(alice)
    before = await sync_to_async(conversation.fitted_context)()
    client = AsyncClient()
    await client.aforce_login(alice)
    answer = await client.post(reverse("chat:context", args=[conversation.pk]))
    assert answer.status_code == 200, answer.content
    summary = await Summary.objects.aget()
    assert answer.json()["summary"] == summary.as_state() and answer.json()["left_out"] == 0
    assert summary.until_id == before.left_out[-1]["id"] and summary.covered == len(before.left_out)
    assert summary.content.startswith("Summary (fake upstream)")
    # The blocking call: the summary prompt, then the messages left out, to the title model.
    (request,) = [r for r in fake.requests if r.body and not r.body.get("stream")]
    assert request.body["messages"][0] == {"role": "system", "content": SUMMARY_PROMPT}
    assert request.body["messages"][1]["content"].startswith("User: " + before.left_out[0]["content"])
    assert chat_requests(fake) == []
    # From now on the summary goes upstream in their place; the originals stay in the history.
    messages = await sync_to_async(conversation.upstream_messages)()
    assert messages[3] == {"role": "system", "content": context.SUMMARY_INTRO + summary.content}
    sent = {m["content"] for m in messages}
    assert not sent & {row["content"] for row in before.left_out}
    assert await conversation.messages.acount() == 161
    # Counted like a title request.
    spend = await sync_to_async(Spend.of)(month_start(summary.created), alice)
    assert spend.tokens > 0


def test_a_summary_is_refused_when_the_budget_has_no_room_for_its_whole_answer(alice, team_key, fake):
    """The hold covers a summary's answer (SUMMARY_TOKENS), not a title's: a team budget with room for
    the input and a title's answer, but not a summary's, refuses before any call."""
    conversation = long_conversation(alice)
    messages = [
        {"role": "system", "content": SUMMARY_PROMPT},
        {"role": "user", "content": summaries.transcript(conversation.fitted_context())},
    ]
    room = accounting.input_tokens(messages) + 2 * accounting.TITLE_TOKENS
    assert room < accounting.input_tokens(messages) + summaries.SUMMARY_TOKENS
    Budget.objects.create(is_team=True, monthly_tokens=room)
    answer = signed_in(alice).post(reverse("chat:context", args=[conversation.pk]))
    assert answer.status_code == 409 and "not available" in answer.json()["error"]
    assert not Summary.objects.exists() and not fake.requests
