"""The sidebar's pages and search, what the owner does to a conversation, branches, and feedback."""

from __future__ import annotations

import datetime
import json

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.models import Conversation, Message
from chat.models.feedback import Feedback
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def make_conversations(user, count: int, **fields) -> list[Conversation]:
    start = timezone.now() - datetime.timedelta(days=30)
    return Conversation.objects.bulk_create(
        [
            Conversation(
                owner=user,
                title=f"Talk {i}",
                model="gpt-4.1",
                updated=start + datetime.timedelta(minutes=i),
                **fields,
            )
            for i in range(count)
        ]
    )


def ids(payload: dict) -> list[int]:
    return [row["id"] for row in payload["conversations"]]


def test_the_list_pages_by_last_activity_with_pinned_and_archived_apart(client, alice, bob):
    talks = make_conversations(alice, 57)
    make_conversations(bob, 3)
    Conversation.objects.filter(pk=talks[-1].pk).update(pinned=True)
    Conversation.objects.filter(pk=talks[-2].pk).update(archived=True)
    client.force_login(alice)

    first = client.get("/c/list.json").json()
    expected = [c.pk for c in reversed(talks[:-2])]
    assert ids(first) == expected[:50] and first["after"]
    second = client.get("/c/list.json", {"after": first["after"]}).json()
    assert ids(second) == expected[50:] and second["after"] is None
    assert ids(client.get("/c/list.json", {"archived": "1"}).json()) == [talks[-2].pk]

    page = client.get("/").content.decode()
    assert page.index(f'data-conversation="{talks[-1].pk}"') < page.index(
        f'data-conversation="{talks[-3].pk}"'
    )
    assert f'data-conversation="{talks[-2].pk}"' not in page


def test_search_finds_titles_and_message_text_of_ones_own_only(client, alice, bob):
    mine = Conversation.objects.create(owner=alice, title="Quarterly planning", model="gpt-4.1")
    Message.objects.create(conversation=mine, role="user", content="What about the kangaroo budget?")
    archived = Conversation.objects.create(
        owner=alice, title="Old kangaroo notes", model="gpt-4.1", archived=True
    )
    theirs = Conversation.objects.create(owner=bob, title="kangaroo", model="gpt-4.1")
    client.force_login(alice)

    found = client.get("/c/search.json", {"q": "kangaroo"}).json()
    assert set(ids(found)) == {mine.pk, archived.pk} and theirs.pk not in ids(found)
    by_id = {row["id"]: row for row in found["conversations"]}
    assert any(is_match for _, is_match in by_id[mine.pk]["snippet"])
    assert ids(client.get("/c/search.json", {"q": "planning"}).json()) == [mine.pk]
    assert client.get("/c/search.json", {"q": "  "}).json() == {"conversations": []}


@pytest.mark.postgres  # both passes: the delete takes the conversation's row lock (SELECT ... FOR UPDATE)
def test_rename_pin_archive_and_delete_are_the_owners_alone(client, alice, bob):
    talk = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    before = Conversation.objects.get(pk=talk.pk).updated
    client.force_login(bob)
    for url in (f"/c/{talk.pk}/update/", f"/c/{talk.pk}/delete/"):
        assert client.post(url, {"title": "mine now"}).status_code == 404
    client.force_login(alice)

    answer = client.post(f"/c/{talk.pk}/update/", {"title": "  Trip   plans ", "pinned": "1"}).json()
    assert (answer["title"], answer["pinned"], answer["archived"]) == ("Trip plans", True, False)
    assert client.post(f"/c/{talk.pk}/update/", {"title": " "}).status_code == 400
    assert client.post(f"/c/{talk.pk}/update/", {"archived": "maybe"}).status_code == 400
    assert client.post(f"/c/{talk.pk}/update/", {"archived": "1"}).json()["archived"] is True
    talk.refresh_from_db()
    assert (talk.title, talk.pinned, talk.archived, talk.updated) == ("Trip plans", True, True, before)

    assert client.post(f"/c/{talk.pk}/delete/").json() == {"deleted": talk.pk}
    assert not Conversation.objects.filter(pk=talk.pk).exists()
    assert client.get(f"/c/{talk.pk}/").status_code == 404


@pytest.mark.postgres  # both passes: as above
def test_a_conversation_with_a_reply_in_flight_is_not_deleted(client, alice):
    talk = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    Message.objects.create(conversation=talk, role="assistant", status="streaming")
    client.force_login(alice)
    assert client.post(f"/c/{talk.pk}/delete/").status_code == 409
    assert Conversation.objects.filter(pk=talk.pk).exists()


async def started_then_done(socket) -> dict:
    """The `started` of the reply a frame just began, once it is done (a title frame may come between)."""
    frames = await frames_until(socket, "done")
    return next(frame for frame in frames if frame["type"] == "started")


@sync_to_async
def thread_of(client, conversation_id: int) -> list[dict]:
    return client.get(f"/c/{conversation_id}/thread.json").json()["messages"]


async def test_regenerate_and_edit_keep_the_replaced_messages_as_branches(client, alice, team_key, fake):
    await sync_to_async(client.force_login)(alice)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=2] first question"))
    first = await started_then_done(socket)
    conversation = first["conversation"]
    await socket.send_json_to(send_frame("[fake:chunks=3] second question", conversation, "c2"))
    second = await started_then_done(socket)

    # Regenerate the last reply: same question, a sibling reply, the old one kept.
    await socket.send_json_to(
        {"type": "regenerate", "id": "r1", "conversation": conversation, "message": second["message"]}
    )
    started = await started_then_done(socket)
    assert started["fork"] == "regenerate" and started["id"] == "r1"
    assert started["user_message"] == second["user_message"]
    assert started["content"] == "[fake:chunks=3] second question"
    thread = await thread_of(client, conversation)
    assert [m["id"] for m in thread][-1] == started["message"]
    assert thread[-1]["versions"] == [second["message"], started["message"]]
    # The replaced reply is not sent upstream again, and the question is not repeated.
    sent = chat_requests(fake)[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        "[fake:chunks=2] first question",
        "[fake:chunks=3] second question",
    ]

    # Edit the first question: a new branch from the root.
    await socket.send_json_to(
        {**send_frame("[fake:chunks=1] first, edited", conversation, "e1"), "edit": first["user_message"]}
    )
    edited = await started_then_done(socket)
    assert edited["fork"] == "edit"
    thread = await thread_of(client, conversation)
    assert [m["role"] for m in thread] == ["user", "assistant"]
    assert thread[0]["versions"] == [first["user_message"], edited["user_message"]]
    assert [m["content"] for m in chat_requests(fake)[-1].body["messages"]] == [
        "[fake:chunks=1] first, edited"
    ]

    # Flip back to the first version: its newest branch (the regenerated reply) is on show again.
    response = await sync_to_async(client.post)(
        f"/c/{conversation}/branch/", {"message": first["user_message"]}
    )
    assert [m["id"] for m in response.json()["messages"]][-1] == started["message"]
    await socket.send_json_to(send_frame("[fake:chunks=1] third", conversation, "c3"))
    await frames_until(socket, "done")
    user_turns = [m["content"] for m in chat_requests(fake)[-1].body["messages"] if m["role"] == "user"]
    assert user_turns == [
        "[fake:chunks=2] first question",
        "[fake:chunks=3] second question",
        "[fake:chunks=1] third",
    ]
    await socket.disconnect()


async def test_forks_of_someone_elses_messages_are_not_found(alice, bob, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=1] hi"))
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    theirs = await connected(bob)
    await theirs.send_json_to(
        {"type": "regenerate", "id": "x", "conversation": done["conversation"], "message": 1}
    )
    assert (await theirs.receive_json_from())["code"] == "not_found"
    mine = await sync_to_async(Conversation.objects.create)(owner=bob, title="b", model="gpt-4.1")
    await theirs.send_json_to(
        {"type": "regenerate", "id": "y", "conversation": mine.pk, "message": done["message"]}
    )
    assert (await theirs.receive_json_from())["code"] == "not_found"
    await theirs.send_json_to({**send_frame("x", mine.pk, "z"), "edit": "one"})
    assert (await theirs.receive_json_from())["code"] == "bad_request"
    await theirs.disconnect()


def test_feedback_is_given_changed_and_taken_back_by_the_owner(client, alice, bob):
    talk = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    question = Message.objects.create(conversation=talk, role="user", content="q")
    reply = Message.objects.create(conversation=talk, parent=question, role="assistant", content="a")
    url = f"/m/{reply.pk}/feedback/"
    client.force_login(bob)
    assert client.post(url, {"rating": "1"}).status_code == 404
    client.force_login(alice)

    assert client.post(url, {"rating": "-1", "comment": "Too vague"}).json()["rating"] == -1
    assert client.post(url, {"rating": "2"}).status_code == 400
    thread = client.get(f"/c/{talk.pk}/thread.json").json()["messages"]
    assert thread[-1]["feedback"] == {"rating": -1, "comment": "Too vague"}
    assert client.post(url, {"rating": "1"}).json() == {"message": reply.pk, "rating": 1, "comment": ""}
    assert Feedback.objects.get(message=reply).rating == 1
    assert client.post(url, {"rating": "0"}).json()["rating"] == 0
    assert not Feedback.objects.filter(message=reply).exists()
    assert client.post(f"/m/{question.pk}/feedback/", {"rating": "1"}).status_code == 404


def test_the_export_says_which_message_each_one_follows(client, alice):
    talk = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    question = Message.objects.create(conversation=talk, role="user", content="q")
    Message.objects.create(conversation=talk, parent=question, role="assistant", content="a")
    client.force_login(alice)
    exported = json.loads(client.get(f"/c/{talk.pk}/export.json").content)
    assert [m["parent"] for m in exported["messages"]] == [None, question.pk]


def test_chinese_text_is_found_by_a_part_of_a_sentence(client, alice):
    talk = Conversation.objects.create(owner=alice, title="周末计划", model="gpt-4.1")
    Message.objects.create(conversation=talk, role="user", content="我们下周去杭州出差 需要订酒店吗")
    Conversation.objects.create(owner=alice, title="别的事情", model="gpt-4.1")
    client.force_login(alice)
    found = client.get("/c/search.json", {"q": "杭州"}).json()
    assert ids(found) == [talk.pk]
    assert any(is_match and piece == "杭州" for piece, is_match in found["conversations"][0]["snippet"])
    assert ids(client.get("/c/search.json", {"q": "计划"}).json()) == [talk.pk]


def test_the_review_transcript_shows_every_version_and_which_were_replaced(client, alice, django_user_model):
    talk = Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    question = Message.objects.create(conversation=talk, role="user", content="q")
    first = Message.objects.create(
        conversation=talk, parent=question, role="assistant", content="first answer"
    )
    second = Message.objects.create(
        conversation=talk, parent=question, role="assistant", content="second answer"
    )
    Conversation.objects.filter(pk=talk.pk).update(leaf=second)
    reviewer = django_user_model.objects.create_superuser("rita", password="rita-password-1")
    client.force_login(reviewer)
    html = client.get(f"/review/{talk.pk}/").content.decode()
    assert "first answer" in html and "second answer" in html
    assert "version 1 of 2" in html and "version 2 of 2" in html
    assert html.count("data-replaced") == 1
    assert html.index("data-replaced") > html.index(f'data-message="{first.pk}"')
    assert html.index("data-replaced") < html.index(f'data-message="{second.pk}"')
