"""Importing our own export.json (chat/imports/tokenoff.py): a conversation exported from /c/<id>/export.json
comes back for another member with its branches, roles, models and times; a list of them too."""

from __future__ import annotations

import io
import json

import pytest

from chat.imports import runner
from chat.models import Conversation, ImportJob, Message
from chat.models.conversations import branch

pytestmark = pytest.mark.django_db


def imported(user, data: bytes) -> ImportJob:
    job = ImportJob.objects.create(owner=user, kind=ImportJob.Kind.TOKENOFF)
    return runner.process(job, io.BytesIO(data), len(data))


@pytest.fixture
def exported(client, alice) -> dict:
    talk = Conversation.objects.create(
        owner=alice, title="Sourdough", model="gpt-4o", parameters={"temperature": 0.3}
    )
    question = Message.objects.create(conversation=talk, role="user", content="How long to proof?")
    Message.objects.create(
        conversation=talk, role="assistant", parent=question, content="Overnight.", model="gpt-4o"
    )
    edit = Message.objects.create(conversation=talk, role="user", content="How long to proof, warm?")
    Message.objects.create(
        conversation=talk,
        role="assistant",
        parent=edit,
        content="Four hours.",
        model="o3",
        finish_reason="stop",
    )
    client.force_login(alice)
    return json.loads(client.get(f"/c/{talk.pk}/export.json").content)


def test_our_export_comes_back_with_its_branches(bob, exported):
    job = imported(bob, json.dumps(exported).encode())

    assert (job.state, job.kind, job.imported) == ("done", "tokenoff", 1)
    copy = Conversation.objects.get(owner=bob)
    assert (copy.title, copy.model, copy.parameters) == ("Sourdough", "o3", {"temperature": 0.3})
    assert copy.imported_from == f"tokenoff:{exported['id']}"
    assert [(m.role, m.content, m.model) for m in branch(copy)] == [
        ("user", "How long to proof, warm?", ""),
        ("assistant", "Four hours.", "o3"),
    ]
    again = [(m["role"], m["content"], m["model"], m["created"]) for m in exported["messages"]]
    mine = copy.messages.order_by("id")
    assert [(m.role, m.content, m.model, m.created.isoformat()) for m in mine] == again
    assert mine.filter(parent__isnull=True).count() == 2


def test_a_list_of_exports_is_read_and_a_rerun_adds_nothing(bob, exported):
    other = {**exported, "id": exported["id"] + 1000, "title": "Another"}
    data = json.dumps([exported, other]).encode()

    first, second = imported(bob, data), imported(bob, data)

    assert (first.imported, second.imported, second.skipped) == (2, 0, 2)
    assert Conversation.objects.filter(owner=bob).count() == 2


def test_a_message_whose_parent_is_missing_skips_the_conversation(bob, exported):
    exported["messages"][1]["parent"] = 999_999
    job = imported(bob, json.dumps(exported).encode())

    assert (job.state, job.skipped) == ("done", 1)
    assert job.report[0]["why"] == "malformed tree: the parent 999999 of a message is missing"
    assert not Conversation.objects.filter(owner=bob).exists()
