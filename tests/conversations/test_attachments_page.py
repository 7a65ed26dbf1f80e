"""A question's attachments on the pages: the chat page after a reload, the thread the script fetches,
and the review transcript, each for one more query however many messages carry files."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Attachment, Conversation, Message, MessageAttachment

pytestmark = pytest.mark.django_db

# Signed in as the test's client; the site's first backend is the password log-in's guard.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def attachment(owner, conversation, name: str, kind: str = "image", **facts) -> Attachment:
    return Attachment.objects.create(
        owner=owner,
        conversation=conversation,
        name=name,
        kind=kind,
        content_type="image/png" if kind == "image" else "application/pdf",
        size=facts.pop("size", 1536),
        file=f"attachments/{owner.pk}/x/{name}",
        **facts,
    )


def talk(owner, questions: int = 1) -> Conversation:
    """A conversation of `questions` questions, each with a screenshot and a PDF, and their replies."""
    conversation = Conversation.objects.create(owner=owner, title="Files", model="gpt-4.1")
    parent = None
    for i in range(questions):
        question = Message.objects.create(
            conversation=conversation, parent=parent, role="user", content=f"what is in these? {i}"
        )
        shot = attachment(
            owner,
            conversation,
            f"screen-{i}.png",
            width=1600,
            height=900,
            thumbnail=f"attachments/t-{i}.webp",
        )
        report = attachment(owner, conversation, f"report-{i}.pdf", kind="document", pages=12, size=1_300_000)
        MessageAttachment.objects.create(message=question, attachment=shot, position=0)
        MessageAttachment.objects.create(message=question, attachment=report, position=1, excerpt="1-5,9")
        parent = Message.objects.create(
            conversation=conversation, parent=question, role="assistant", content=f"an answer {i}"
        )
    return conversation


def initial_state(html: str) -> dict:
    found = re.search(r'<script id="chat-state" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_the_conversation_page_draws_a_questions_thumbnail_and_document_chip(client, alice):
    conversation = talk(alice)
    shot = conversation.attachments.get(kind="image")
    report = conversation.attachments.get(kind="document")
    client.force_login(alice, backend=BACKEND)
    html = client.get(f"/c/{conversation.pk}/").content.decode()
    # The image: a link to the full file around a lazy thumbnail sized from the start, named by its alt.
    assert f'<a class="attachment-thumb" href="/api/attachments/{shot.pk}/"' in html
    assert f'src="/api/attachments/{shot.pk}/thumbnail/" alt="screen-0.png" loading="lazy"' in html
    assert 'width="1600" height="900"' in html
    # The document: a chip that downloads it, with its pages, size and the pages chosen.
    assert f'<a class="attachment-doc" href="/api/attachments/{report.pk}/" download="report-0.pdf">' in html
    assert "12 pages · 1.2\xa0MB · pages 1-5,9" in html
    # In the message's row, before its text; a reply has none.
    article = html[html.index('class="message message-user') :]
    assert article.index("attachment-thumb") < article.index('class="message-body')
    assert html.count('class="message-attachments"') == 1 + 1  # the question's, and the template's


def test_the_page_state_and_the_thread_carry_the_attachments_in_order(client, alice):
    conversation = talk(alice)
    client.force_login(alice, backend=BACKEND)
    state = initial_state(client.get(f"/c/{conversation.pk}/").content.decode())
    thread = client.get(f"/c/{conversation.pk}/thread.json").json()["messages"]
    for messages in (state["messages"], thread):
        question, reply = messages
        assert [a["name"] for a in question["attachments"]] == ["screen-0.png", "report-0.pdf"]
        image, document = question["attachments"]
        assert image["kind"] == "image" and (image["width"], image["height"]) == (1600, 900)
        assert image["thumbnail"] == f"/api/attachments/{image['id']}/thumbnail/"
        assert document["url"] == f"/api/attachments/{document['id']}/"
        assert document["excerpt"] == "1-5,9" and document["pages"] == 12 and document["thumbnail"] is None
        assert reply["attachments"] == []


def test_an_edited_question_shows_only_its_own_versions_files(client, alice):
    conversation = talk(alice)
    first = conversation.messages.get(role="user")
    edited = Message.objects.create(conversation=conversation, role="user", content="only the report")
    kept = first.attachment_links.get(position=1).attachment
    MessageAttachment.objects.create(message=edited, attachment=kept, position=0)
    reply = Message.objects.create(conversation=conversation, parent=edited, role="assistant", content="ok")
    Conversation.objects.filter(pk=conversation.pk).update(leaf=reply)
    client.force_login(alice, backend=BACKEND)
    html = client.get(f"/c/{conversation.pk}/").content.decode()
    assert "report-0.pdf" in html and "screen-0.png" not in html


def queries_of(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_conversation_page_costs_one_query_for_the_files_however_many_questions_carry_them(client, alice):
    client.force_login(alice, backend=BACKEND)
    plain = Conversation.objects.create(owner=alice, title="No files", model="gpt-4.1")
    Message.objects.create(conversation=plain, role="user", content="just text")
    without = queries_of(client, f"/c/{plain.pk}/")
    for questions in (1, 12):
        conversation = talk(alice, questions)
        sql = queries_of(client, f"/c/{conversation.pk}/")
        assert len(sql) == len(without)
        assert sum("chat_messageattachment" in q for q in sql) == 1


def test_the_review_transcript_lists_the_files_with_the_review_routes(client, alice, reviewer):
    conversation = talk(alice, 3)
    shot = conversation.attachments.get(name="screen-1.png")
    report = conversation.attachments.get(name="report-2.pdf")
    client.force_login(reviewer, backend=BACKEND)
    # One query for the files, however many questions carry them.
    sql = queries_of(client, f"/review/{talk(alice, 1).pk}/")
    assert sum("chat_messageattachment" in q for q in sql) == 1
    assert len(queries_of(client, f"/review/{conversation.pk}/")) == len(sql)
    html = client.get(f"/review/{conversation.pk}/").content.decode()
    assert f'href="/review/attachments/{shot.pk}/"' in html
    assert f'src="/review/attachments/{shot.pk}/thumbnail/" alt="screen-1.png"' in html
    assert f'href="/review/attachments/{report.pk}/"' in html and "12 pages" in html
    # Never the member's own routes: the review ones record the opening.
    assert "/api/attachments/" not in html
    assert html.count('class="message-attachments review-attachments"') == 3
