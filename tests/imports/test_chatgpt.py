"""Importing ChatGPT exports (chat/imports/chatgpt.py, sources.py): the tree becomes our branches, a re-run
adds nothing, and bad archives get a clear error or a per-conversation skip with the reason."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest

from chat.conversations.branches import versions
from chat.imports import runner
from chat.models import Conversation, ImportJob, Message
from chat.models.conversations import branch
from tests.imports import exports

pytestmark = pytest.mark.django_db


def imported(user, data: bytes) -> ImportJob:
    job = ImportJob.objects.create(owner=user, kind=ImportJob.Kind.CHATGPT)
    return runner.process(job, io.BytesIO(data), len(data))


def test_an_export_with_branches_imported_twice_comes_in_once(alice):
    data = exports.as_zip({"conversations.json": exports.as_json([exports.branched(), exports.simple("c2")])})

    first = imported(alice, data)
    again = imported(alice, data)

    assert (first.state, first.total, first.imported, first.skipped) == ("done", 2, 2, 0)
    assert (again.state, again.imported, again.skipped) == ("done", 0, 2)
    assert {row["why"] for row in again.report} == {"already imported"}
    assert Conversation.objects.filter(owner=alice).count() == 2
    assert Message.objects.filter(conversation__owner=alice).count() == 5 + 2


def test_the_tree_becomes_branches_with_the_current_node_on_show(alice):
    imported(alice, exports.as_json([exports.branched()]))
    talk = Conversation.objects.get(owner=alice, imported_from="chatgpt:c-branched")
    shown = branch(talk)

    assert [(m.role, m.content) for m in shown] == [
        ("user", "What is a monad, simply?"),
        ("assistant", "A pattern for chaining."),
    ]
    # The edit is a second version of the question, the regeneration a second version of the answer.
    question, answer = shown
    assert question.parent_id is None and answer.parent_id == question.pk
    siblings = versions(talk.messages.all())
    contents = dict(talk.messages.values_list("pk", "content"))
    assert [contents[pk] for pk in siblings[question.pk]] == ["What is a monad?", "What is a monad, simply?"]
    assert len(siblings[answer.pk]) == 2
    first_answer = Message.objects.get(conversation=talk, content__startswith="A monoid")
    assert first_answer.parent.content == "What is a monad?"
    # Parents before replies, as in a live chat.
    assert all(m.parent_id is None or m.parent_id < m.pk for m in talk.messages.all())


def test_titles_times_and_models_come_from_the_export(alice):
    imported(
        alice, exports.as_json([exports.branched(), exports.simple("c2", title="", words="Plan a trip")])
    )
    talk = Conversation.objects.get(imported_from="chatgpt:c-branched")
    untitled = Conversation.objects.get(imported_from="chatgpt:c2")

    assert talk.title == "Monads" and untitled.title == "Plan a trip"
    assert talk.created == datetime.fromtimestamp(exports.T0, tz=UTC)
    assert talk.updated == datetime.fromtimestamp(exports.T0 + 600, tz=UTC)
    assert talk.model == "o3"  # the reply on show was o3's; the other answers keep their own
    assert sorted(talk.messages.filter(role="assistant").values_list("model", flat=True)) == [
        "gpt-4o",
        "gpt-4o",
        "o3",
    ]
    assert talk.messages.get(content="What is a monad?").created == datetime.fromtimestamp(
        exports.T0 + 10, tz=UTC
    )
    assert untitled.model == "gpt-4o-mini"


def test_the_newer_split_files_are_all_read(alice):
    data = exports.as_zip(
        {
            "conversations-000.json": exports.as_json([exports.simple("s1"), exports.simple("s2")]),
            "conversations-001.json": exports.as_json([exports.simple("s3")]),
        }
    )
    job = imported(alice, data)

    assert (job.state, job.imported, job.progress) == ("done", 3, 99)
    assert set(Conversation.objects.values_list("imported_from", flat=True)) == {
        "chatgpt:s1",
        "chatgpt:s2",
        "chatgpt:s3",
    }


def test_image_parts_are_left_out_and_the_report_says_so(alice):
    talk = exports.simple("img")
    talk["mapping"]["u"]["message"]["content"] = {
        "content_type": "multimodal_text",
        "parts": [
            {"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"},
            "What is this?",
        ],
    }
    job = imported(alice, exports.as_json([talk]))

    assert Message.objects.get(role="user").content == "What is this?"
    assert job.report == [
        {"title": "What is this?", "outcome": "imported", "why": "1 image, file or audio parts left out"}
    ]


def test_a_malformed_tree_skips_that_conversation_with_the_reason(alice):
    looped = exports.simple("loop", title="Looped")
    looped["mapping"]["root"]["parent"] = "a"  # root -> a -> u -> root
    orphan = exports.simple("orphan", title="Orphan")
    orphan["mapping"]["u"]["parent"] = "gone"
    empty = exports.conversation("empty", "Empty", [exports.node("root", None, None)], current="root")
    job = imported(
        alice, exports.as_json([looped, orphan, empty, "not a conversation", exports.simple("ok")])
    )

    assert (job.state, job.imported, job.skipped) == ("done", 1, 4)
    reasons = {row["title"]: row["why"] for row in job.report if row["outcome"] == "skipped"}
    assert reasons["Looped"] == "malformed tree: its messages form a loop"
    assert reasons["Orphan"] == "malformed tree: the parent gone of a message is missing"
    assert reasons["Empty"] == "no text messages"
    assert reasons[""] == "not a conversation object"


def test_a_file_that_is_not_a_zip_nor_json_fails_with_a_clear_error(alice):
    job = imported(alice, b"\x89PNG\r\n\x1a\n not an export")

    assert job.state == "failed"
    assert job.error == "This file is neither a ZIP nor a JSON export of conversations."


def test_a_broken_zip_fails_with_a_clear_error(alice):
    job = imported(alice, b"PK\x03\x04 truncated")

    assert (job.state, job.error) == ("failed", "This file is not a readable ZIP archive.")


def test_a_zip_without_conversations_fails_with_a_clear_error(alice):
    job = imported(alice, exports.as_zip({"user.json": b"{}"}))

    assert (job.state, job.error) == (
        "failed",
        "This ZIP holds no conversations.json: is it a ChatGPT export?",
    )


def test_a_zip_bomb_is_refused_before_it_is_unpacked(alice):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", b"[" + b" " * 50_000_000 + b"]")
    data = buffer.getvalue()
    assert len(data) < 100_000

    job = imported(alice, data)

    assert job.state == "failed" and "ZIP bomb" in job.error
    assert Conversation.objects.count() == 0


def test_invalid_json_fails_and_keeps_what_came_before(alice):
    data = exports.as_json([exports.simple("first")])[:-1] + b", {oops"
    job = imported(alice, data)

    assert job.state == "failed" and job.error.startswith("The file is not valid JSON")
    assert (job.imported, Conversation.objects.count()) == (1, 1)
