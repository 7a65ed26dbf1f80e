"""Chats in a project over the socket: the project's instructions reach the upstream on each send, a
reader cannot send or stop, a collaborator continues the chat with their own key, others get not_found."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chat.models import ApiKey, Conversation, Message, Project
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CAROLS_KEY = "sk-carol-0123456789abcdefCAROL"


def system_of(fake) -> str:
    first = chat_requests(fake)[-1].body["messages"][0]
    assert first["role"] == "system"
    return first["content"]


async def test_a_new_chat_in_a_project_sends_its_current_instructions_each_time(
    alice, team_key, fake, project
):
    socket = await connected(alice)
    await socket.send_json_to(
        {**send_frame("Hello"), "system_prompt": "Use metric units.", "project": project.pk}
    )
    started = (await frames_until(socket, "done"))[0]
    conversation = await sync_to_async(Conversation.objects.get)(pk=started["conversation"])
    assert conversation.project_id == project.pk
    assert conversation.system_prompt == "Use metric units."  # the instructions are not stored in it
    assert system_of(fake) == "Answer as the launch team.\n\nUse metric units."

    # The project's instructions as they are now apply to the next send.
    await sync_to_async(Project.objects.filter(pk=project.pk).update)(instructions="Answer in French.")
    await socket.send_json_to(send_frame("More", conversation=conversation.pk, client_id="c2"))
    await frames_until(socket, "done")
    assert system_of(fake) == "Answer in French.\n\nUse metric units."
    await socket.disconnect()


async def test_a_project_on_an_existing_chat_or_anothers_project_is_refused(
    alice, bob, team_key, fake, project
):
    chat = await sync_to_async(Conversation.objects.create)(owner=alice, title="t", model="gpt-4.1")
    socket = await connected(alice)
    await socket.send_json_to({**send_frame("Hi", conversation=chat.pk), "project": project.pk})
    assert (await socket.receive_json_from())["code"] == "bad_request"
    others = await sync_to_async(Project.objects.create)(owner=bob, name="Bob's")
    await socket.send_json_to({**send_frame("Hi", client_id="c2"), "project": others.pk})
    refused = await socket.receive_json_from()
    assert (refused["code"], refused["message"]) == ("not_found", "No such project.")
    assert chat_requests(fake) == [] and not await sync_to_async(Message.objects.exists)()
    await socket.disconnect()


async def test_a_reader_can_neither_send_nor_stop(bob, readers, team_key, fake, filed):
    socket = await connected(bob)
    await socket.send_json_to(send_frame("Let me in", conversation=filed.pk))
    assert (await socket.receive_json_from())["code"] == "not_found"
    await socket.send_json_to({"type": "stop", "conversation": filed.pk})
    assert (await socket.receive_json_from())["code"] == "not_found"
    # Following it is reading: allowed (an idle conversation answers with its snapshot).
    await socket.send_json_to({"type": "attach", "conversation": filed.pk})
    assert (await socket.receive_json_from())["type"] == "snapshot"
    assert chat_requests(fake) == [] and not await sync_to_async(Message.objects.exists)()
    await socket.disconnect()


async def test_a_collaborator_continues_the_chat_with_their_own_key(
    carol, collaborators, team_key, fake, filed
):
    await sync_to_async(ApiKey.store)(CAROLS_KEY, user=carol)
    socket = await connected(carol)
    await socket.send_json_to(send_frame("Next step?", conversation=filed.pk))
    frames = await frames_until(socket, "done")
    assert frames[0]["conversation"] == filed.pk
    assert chat_requests(fake)[-1].authorization == f"Bearer {CAROLS_KEY}"
    assert system_of(fake) == "Answer as the launch team."
    reply = await sync_to_async(Message.objects.get)(role="assistant")
    assert reply.conversation_id == filed.pk and not reply.via_team_key
    await socket.disconnect()


async def test_a_member_outside_the_share_gets_not_found(
    dave, outsiders, readers, collaborators, team_key, fake, filed
):
    socket = await connected(dave)
    for frame in (
        send_frame("Hi", conversation=filed.pk),
        {"type": "stop", "conversation": filed.pk},
        {"type": "attach", "conversation": filed.pk},
    ):
        await socket.send_json_to(frame)
        assert (await socket.receive_json_from())["code"] == "not_found"
    assert chat_requests(fake) == []
    await socket.disconnect()
