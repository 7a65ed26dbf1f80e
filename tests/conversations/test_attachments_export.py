"""A message's attachments in the exports (issue 15, item 7): export.json's metadata, export.md's links,
and the review export's JSON, fetched in one query however many messages carry them."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Conversation, Message, MessageAttachment
from tests.realtime.test_attachments_send import document_of, image_of, pages_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk(alice):
    conversation = Conversation.objects.create(owner=alice, title="Pictures", model="gpt-4.1")
    image = image_of(alice, name="a [draft].png")
    document = document_of(alice, pages_text(2), pages=2)
    parent = None
    for turn in range(3):
        question = Message.objects.create(
            conversation=conversation, parent=parent, role="user", content=f"Q{turn}"
        )
        MessageAttachment.objects.create(message=question, attachment=image, position=0)
        MessageAttachment.objects.create(message=question, attachment=document, position=1, excerpt="1")
        parent = Message.objects.create(
            conversation=conversation, parent=question, role="assistant", content="A"
        )
    conversation.image, conversation.document = image, document
    return conversation


def test_export_json_lists_each_messages_attachments(client, alice, talk):
    client.force_login(alice)
    data = json.loads(client.get(f"/c/{talk.pk}/export.json").content)
    question, reply = data["messages"][:2]
    assert question["attachments"] == [
        {"id": talk.image.pk, "name": "a [draft].png", "kind": "image", "size": talk.image.size},
        {"id": talk.document.pk, "name": "report.pdf", "kind": "document", "size": talk.document.size},
    ]
    assert reply["attachments"] == []


def test_export_json_reads_the_attachments_in_one_query(alice, talk):
    from chat.conversations import exports

    messages = list(talk.messages.order_by("id"))
    with CaptureQueriesContext(connection) as queries:
        exports.as_json(talk, messages)
    assert len(queries) == 1


def test_export_markdown_links_each_attachment(client, alice, talk):
    client.force_login(alice)
    text = client.get(f"/c/{talk.pk}/export.md").content.decode()
    assert (
        f"- [a \\[draft\\].png](/api/attachments/{talk.image.pk}/) (image, {talk.image.size:,} bytes)" in text
    )
    assert f"- [report.pdf](/api/attachments/{talk.document.pk}/) (document, " in text
    assert text.count("Attachments:") == 3


def test_the_review_exports_carry_the_same_metadata(client, reviewer, talk):
    client.force_login(reviewer)
    response = client.post("/review/export/", {"ids": [talk.pk], "format": "json"})
    (conversation,) = json.loads(response.content)["conversations"]
    assert [a["id"] for a in conversation["messages"][0]["attachments"]] == [talk.image.pk, talk.document.pk]
    response = client.post("/review/export/", {"ids": [talk.pk], "format": "md"})
    archive = zipfile.ZipFile(BytesIO(response.content))
    assert f"/api/attachments/{talk.image.pk}/" in archive.read(archive.namelist()[0]).decode()
