"""What of a branch goes upstream (chat/conversations/context.py): never more than the window holds."""

from __future__ import annotations

import pytest

from chat.conversations import context
from chat.models import ChatModel, Conversation, Message
from chat.upstream import tokens

MODEL = "gpt-4o-mini"
SYSTEM = "You are terse."


def rows_of(turns: int, words: int = 30) -> list[dict]:
    """A branch of `turns` exchanges then a last question, each message `words` words long."""
    rows, pk = [], 0
    for turn in range(turns):
        for role in ("user", "assistant"):
            pk += 1
            rows.append({"id": pk, "role": role, "content": f"{role} {turn} " + "lorem " * words})
    rows.append({"id": pk + 1, "role": "user", "content": f"user {turns} " + "lorem " * words})
    return rows


def sent_ids(rows: list[dict], fitted: context.Fitted, system: bool = True) -> list[int]:
    """The ids of the rows a request holds (rows have distinct contents)."""
    by_content = {row["content"]: row["id"] for row in rows}
    return [by_content[m["content"]] for m in fitted.messages[1 if system else 0 :]]


def test_a_branch_that_fits_goes_whole():
    rows = rows_of(5)
    fitted = context.fit(rows, SYSTEM, context.Limits(MODEL, 100_000, 1000))
    assert fitted.messages[0] == {"role": "system", "content": SYSTEM}
    assert (
        sent_ids(rows, fitted) == [row["id"] for row in rows]
        and fitted.context_start is None
        and not fitted.left_out
    )


def test_an_overflowing_branch_keeps_the_system_prompt_the_first_exchange_and_the_newest_turns():
    rows = rows_of(60)
    limits = context.Limits(MODEL, 4000, 500)
    fitted = context.fit(rows, SYSTEM, limits)
    ids = sent_ids(rows, fitted)
    assert fitted.messages[0] == {"role": "system", "content": SYSTEM}
    assert ids[:2] == [1, 2]  # the first exchange
    assert ids[-1] == rows[-1]["id"] and fitted.messages[-1]["content"] == rows[-1]["content"]
    # What follows the first exchange is the newest turns, contiguous, from the context's start on.
    assert fitted.left_out and ids[2] == fitted.context_start
    assert [row["id"] for row in fitted.left_out] == list(range(3, fitted.context_start))
    assert ids[2:] == list(range(fitted.context_start, rows[-1]["id"] + 1))
    assert tokens.count_messages(fitted.messages, MODEL).tokens <= limits.budget()


def test_the_latest_question_goes_whole_even_when_it_alone_is_over_the_budget():
    rows = rows_of(10)
    rows[-1]["content"] = "long " * 5000
    fitted = context.fit(rows, SYSTEM, context.Limits(MODEL, 2000, 100))
    assert fitted.messages[-1]["content"] == rows[-1]["content"]
    assert fitted.messages[:3] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": rows[0]["content"]},
        {"role": "assistant", "content": rows[1]["content"]},
    ]


def test_the_prefix_stays_the_same_between_turns_until_a_cut():
    limits = context.Limits(MODEL, 1500, 300)
    previous, kept, cuts = None, 0, 0
    for turns in range(1, 120):
        rows = rows_of(turns, words=12)
        messages = context.fit(rows, SYSTEM, limits).messages
        assert tokens.count_messages(messages, MODEL).tokens <= limits.budget()
        if previous is not None:
            if messages[: len(previous)] == previous:
                kept += 1
            else:
                cuts += 1
        previous = messages
    # Cut in blocks: each cut frees about 30 % of the budget, so most sends keep the prefix.
    assert cuts >= 5 and kept >= 5 * cuts


def test_the_cut_replays_the_history_in_blocks():
    # Three-token turns against a budget of ten (fixed part one): cut at the overflow, down to 7.
    assert context.first_kept([3, 3, 3], 1, 10) == 0
    assert context.first_kept([3, 3, 3, 3], 1, 10) == 2  # 13 > 10: drop until <= 7
    assert context.first_kept([3, 3, 3, 3, 3], 1, 10) == 2  # 10: it fits, the cut stays
    assert context.first_kept([3, 3, 3, 3, 3, 3], 1, 10) == 4


def test_the_budget_keeps_room_for_the_reply_and_a_margin():
    assert context.Limits(MODEL, None).budget() is None
    assert context.Limits(MODEL, 128_000, 16_384).budget() == 128_000 - 16_384 - 2560
    assert context.Limits(MODEL, 128_000).budget() == 128_000 - context.REPLY_ROOM - 2560
    assert context.Limits(MODEL, 2000, 16_384).budget() == 2000 - 500 - 40  # a quarter of a small window


@pytest.mark.django_db
def test_upstream_messages_fit_the_conversations_model(alice):
    ChatModel.objects.filter(name=MODEL).update(context_window=3000, max_output_tokens=300)
    conversation = Conversation.objects.create(owner=alice, model=MODEL, system_prompt=SYSTEM)
    parent = None
    for row in rows_of(80, words=12):
        parent = Message.objects.create(
            conversation=conversation, parent=parent, **{k: row[k] for k in ("role", "content")}
        )
    messages = conversation.upstream_messages()
    assert messages[0]["content"] == SYSTEM and messages[1]["content"].startswith("user 0 ")
    assert messages[-1]["content"].startswith("user 80 ")
    assert len(messages) < 1 + 161 and conversation.fitted_context().left_out
    assert tokens.count_messages(messages, MODEL).tokens <= context.Limits(MODEL, 3000, 300).budget()


def test_a_summary_goes_in_place_of_the_messages_it_covers():
    rows = rows_of(60)
    limits = context.Limits(MODEL, 4000, 500)
    before = context.fit(rows, SYSTEM, limits)
    until = before.left_out[-1]["id"]
    summary = {"id": 1, "content": "They talked of lorem.", "covered": len(before.left_out), "until": until}
    fitted = context.fit(rows, SYSTEM, limits, summary)
    assert fitted.summary == summary and not fitted.left_out and fitted.context_start == until + 1
    assert fitted.messages[3] == {"role": "system", "content": context.SUMMARY_INTRO + summary["content"]}
    sent = sent_ids(rows, context.Fitted(fitted.messages[:3] + fitted.messages[4:]))
    assert sent == [1, 2, *range(until + 1, rows[-1]["id"] + 1)]
    # A branch that does not hold the message it ends at, or ends there: the summary does not apply.
    assert context.fit(rows[:until], SYSTEM, limits, summary).summary is None
    assert context.fit(rows_of(3), SYSTEM, limits, {**summary, "until": 99}).summary is None
