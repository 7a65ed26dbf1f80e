"""The WebSocket protocol (docs/protocol.md) through the real ASGI stack and the fake upstream over HTTP."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat.models import ApiKey, ChatModel, Conversation, Message
from tests.conftest import chat_requests, wait_until
from tests.ws import close_code, connected, frames_until, joined, open_socket, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def messages_of(conversation_id: int) -> list[Message]:
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("id"))


@sync_to_async
def conversation_of(user) -> Conversation:
    return Conversation.objects.create(owner=user, title="mine", model="gpt-4.1")


async def test_send_streams_a_reply_and_saves_it(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("Hello"))
    frames = await frames_until(socket, "done")

    started, deltas, done = frames[0], [f for f in frames if f["type"] == "delta"], frames[-1]
    assert started["type"] == "started" and started["id"] == "c1" and started["model"] == "gpt-4.1"
    assert started["title"] == "Hello"
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert all(d["message"] == started["message"] for d in deltas)
    assert done["finish_reason"] == "stop"
    assert set(done["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}

    user_message, reply = await messages_of(started["conversation"])
    assert (user_message.pk, user_message.role, user_message.content) == (
        started["user_message"],
        "user",
        "Hello",
    )
    assert reply.pk == started["message"] and reply.status == "done"
    assert reply.content == joined(frames) and "Hello" in reply.content
    assert reply.model == "gpt-4.1" and reply.served_model.startswith("gpt-4.1-")
    assert reply.last_seq == len(deltas) and reply.usage["total_tokens"] == done["usage"]["total_tokens"]

    request = chat_requests(fake)[0]
    assert request.authorization == f"Bearer {ApiKey.objects.model.reveal(team_key)}"
    assert request.body["stream"] is True and request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"] == [{"role": "user", "content": "Hello"}]
    await socket.disconnect()


async def test_the_whole_history_goes_upstream(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("First question"))
    first = await frames_until(socket, "done")
    conversation = first[0]["conversation"]
    await socket.send_json_to(send_frame("Second question", conversation=conversation, client_id="c2"))
    second = await frames_until(socket, "done")
    assert second[0]["conversation"] == conversation

    messages = chat_requests(fake)[-1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == joined(first) and messages[2]["content"] == "Second question"
    await socket.disconnect()


async def test_a_new_conversation_is_named_after_its_first_reply(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("Name me please"))
    await frames_until(socket, "done")
    named = await socket.receive_json_from(timeout=5)
    assert named["type"] == "conversation" and named["title"]
    titles = [r for r in fake.requests if r.body and r.body.get("model") == "gpt-4.1-nano"]
    assert titles and not titles[0].body.get("stream")
    conversation = await sync_to_async(Conversation.objects.get)(pk=named["conversation"])
    assert conversation.title == named["title"]
    await socket.disconnect()


async def test_deltas_are_coalesced_not_one_frame_per_token(alice, team_key, fake, settings):
    settings.TOKENOFF_COALESCE_SECONDS = 0.05
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=400] [fake:delay=0.001]"))
    frames = await frames_until(socket, "done")
    deltas = [f for f in frames if f["type"] == "delta"]
    expected = " ".join(f"word{i}" for i in range(1, 401))
    assert joined(frames) == expected
    assert len(deltas) < 100, f"{len(deltas)} frames for 400 upstream chunks"
    await socket.disconnect()


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        '{"no": "type"}',
        '{"type": "dance"}',
        '{"type": "send", "conversation": null, "content": "hi"}',
        '{"type": "send", "id": "x", "conversation": "1", "content": "hi"}',
        '{"type": "send", "id": "x", "conversation": true, "content": "hi"}',
        '{"type": "send", "id": "x", "content": "hi"}',
        '{"type": "send", "id": "x", "conversation": null, "content": "   "}',
        '{"type": "send", "id": "x", "conversation": null, "content": 5}',
        '{"type": "send", "id": "x", "conversation": null, "content": "hi", "model": 3}',
        '{"type": "send", "id": "' + "x" * 65 + '", "conversation": null, "content": "hi"}',
        '{"type": "stop"}',
        '{"type": "attach", "conversation": 1.5}',
    ],
)
async def test_malformed_frames_get_bad_request_and_the_socket_stays_open(alice, team_key, fake, raw):
    socket = await connected(alice)
    await socket.send_to(text_data=raw)
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == "bad_request" and error["message"]
    await socket.send_json_to(send_frame("still here"))
    assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"
    await socket.disconnect()


async def test_binary_frames_are_bad_requests(alice, fake):
    socket = await connected(alice)
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from())["code"] == "bad_request"
    await socket.disconnect()


async def test_too_large_content_is_refused_and_nothing_is_saved(alice, team_key, fake, settings):
    settings.TOKENOFF_MAX_CONTENT = 100
    socket = await connected(alice)
    await socket.send_json_to(send_frame("x" * 101, client_id="big"))
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("too_large", "big")
    # A frame far over the cap is refused before it is parsed at all.
    await socket.send_to(text_data="{" * 10_000)
    assert (await socket.receive_json_from())["code"] == "too_large"
    assert await sync_to_async(Message.objects.count)() == 0
    assert chat_requests(fake) == []
    await socket.disconnect()


async def test_someone_elses_conversation_is_not_found_like_a_missing_one(alice, bob, team_key, fake):
    theirs = await conversation_of(bob)
    socket = await connected(alice)
    answers = []
    for conversation in (theirs.pk, 987654):
        for frame in (
            send_frame("peek", conversation=conversation),
            {"type": "stop", "conversation": conversation},
            {"type": "attach", "conversation": conversation},
        ):
            await socket.send_json_to(frame)
            error = await socket.receive_json_from()
            answers.append((frame["type"], error["code"], error["message"]))
            assert error["conversation"] == conversation
    assert answers[:3] == answers[3:]
    assert {code for _, code, _ in answers} == {"not_found"}
    assert await sync_to_async(Message.objects.count)() == 0 and chat_requests(fake) == []
    await socket.disconnect()


async def test_a_second_send_while_a_reply_streams_is_busy(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:delay=0.05] slow one"))
    started = await socket.receive_json_from()
    conversation = started["conversation"]
    await socket.send_json_to(send_frame("impatient", conversation=conversation, client_id="c2"))
    frames = await frames_until(socket, "error")
    assert (frames[-1]["code"], frames[-1]["id"], frames[-1]["conversation"]) == ("busy", "c2", conversation)
    await socket.send_json_to({"type": "stop", "conversation": conversation})
    await frames_until(socket, "done")
    contents = [m.content for m in await messages_of(conversation) if m.role == "user"]
    assert contents == ["[fake:delay=0.05] slow one"]
    await socket.disconnect()


async def test_an_unknown_or_disabled_model_is_unavailable(alice, team_key, fake):
    await sync_to_async(ChatModel.objects.filter(name="gpt-4o").update)(enabled=False)
    socket = await connected(alice)
    for model in ("gpt-4o", "no-such-model"):
        await socket.send_json_to(send_frame("hi", model=model))
        error = await socket.receive_json_from()
        assert error["code"] == "model_unavailable"
    assert await sync_to_async(Message.objects.count)() == 0 and chat_requests(fake) == []
    await socket.disconnect()


async def test_without_any_key_the_answer_is_no_api_key(alice, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("hi"))
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("no_api_key", "c1")
    assert await sync_to_async(Message.objects.count)() == 0 and chat_requests(fake) == []
    await socket.disconnect()


async def test_the_users_own_key_comes_before_the_team_key(alice, team_key, fake):
    await sync_to_async(ApiKey.store)("sk-alice-own-key-0001", user=alice)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("hi"))
    await frames_until(socket, "done")
    assert chat_requests(fake)[0].authorization == "Bearer sk-alice-own-key-0001"
    await socket.disconnect()


@pytest.mark.parametrize(
    ("directive", "code", "partial"),
    [
        ("[fake:status=401]", "upstream_auth", False),
        ("[fake:status=403]", "upstream_auth", False),
        ("[fake:status=429]", "upstream_rate_limited", False),
        ("[fake:status=500]", "upstream_unavailable", False),
        ("[fake:status=503]", "upstream_unavailable", False),
        ("[fake:status=404]", "upstream_error", False),
        ("[fake:status=400]", "upstream_error", False),
        ("[fake:cut=3]", "upstream_unavailable", True),
        ("[fake:garbage]", "upstream_error", True),
        ("[fake:error_chunk]", "upstream_error", True),
    ],
)
async def test_upstream_failures_keep_the_question_and_the_partial_reply(
    alice, team_key, fake, directive, code, partial
):
    socket = await connected(alice)
    await socket.send_json_to(send_frame(f"{directive} tell me"))
    frames = await frames_until(socket, "done")
    error = next(f for f in frames if f["type"] == "error")
    assert (error["code"], error["id"]) == (code, "c1") and error["message"]
    assert frames.index(error) == len(frames) - 2, "the error frame comes right before done"
    assert frames[-1]["finish_reason"] == "error"
    assert "sk-" not in error["message"] and "exploded" not in error["message"]

    question, reply = await messages_of(frames[0]["conversation"])
    assert question.content == f"{directive} tell me"
    assert (reply.status, reply.finish_reason, reply.error_code) == ("done", "error", code)
    assert reply.content == joined(frames)
    assert bool(reply.content) is partial
    await socket.disconnect()


@pytest.mark.redis
async def test_stop_ends_the_reply_closes_the_upstream_request_and_keeps_the_text(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=400] [fake:delay=0.05]"))
    started = await socket.receive_json_from()
    first = await socket.receive_json_from()
    assert first["type"] == "delta"
    await socket.send_json_to({"type": "stop", "conversation": started["conversation"]})
    frames = [started, first, *await frames_until(socket, "done")]
    assert frames[-1]["finish_reason"] == "stopped"

    request = chat_requests(fake)[0]
    assert await wait_until(lambda: request.client_closed, timeout=1.0), "the upstream never saw the close"
    assert request.chunks_sent < 400  # stopped at once: the rest of the stream was 20 s long
    reply = (await messages_of(started["conversation"]))[-1]
    assert (reply.finish_reason, reply.content) == ("stopped", joined(frames))
    assert reply.content.startswith("word1")
    await socket.disconnect()


@pytest.mark.redis
async def test_a_reply_runs_to_its_end_when_the_browser_leaves(alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=30] [fake:delay=0.02]"))
    started = await socket.receive_json_from()
    await socket.disconnect()

    async def finished():
        reply = (await messages_of(started["conversation"]))[-1]
        return reply if reply.status == "done" else None

    for _ in range(300):
        if reply := await finished():
            break
        await asyncio.sleep(0.02)
    assert reply and reply.finish_reason == "stop"
    assert reply.content == " ".join(f"word{i}" for i in range(1, 31))
    assert not chat_requests(fake)[0].client_closed


@pytest.mark.redis
async def test_attach_mid_reply_gives_a_snapshot_that_later_deltas_continue(alice, team_key, fake):
    first = await connected(alice)
    await first.send_json_to(send_frame("[fake:chunks=60] [fake:delay=0.01]"))
    started = await first.receive_json_from()
    await first.receive_json_from()  # the reply is under way

    second = await connected(alice)
    await second.send_json_to({"type": "attach", "conversation": started["conversation"]})
    frames = await frames_until(second, "done")
    snapshot = frames[0]
    assert snapshot["type"] == "snapshot" and snapshot["streaming"] is True
    assert snapshot["message"] == started["message"] and snapshot["seq"] >= 1
    later = [f for f in frames if f["type"] == "delta"]
    assert [d["seq"] for d in later] == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(later)))
    whole = " ".join(f"word{i}" for i in range(1, 61))
    assert snapshot["content"] + joined(frames) == whole
    assert joined(await frames_until(first, "done")) + "" != ""
    await first.disconnect()
    await second.disconnect()


@pytest.mark.redis
async def test_every_socket_of_the_owner_gets_the_frames(alice, team_key, fake):
    sockets = [await connected(alice) for _ in range(2)]
    await sockets[0].send_json_to(send_frame("[fake:chunks=5]"))
    started = await sockets[0].receive_json_from()
    await frames_until(sockets[0], "done")
    await sockets[1].send_json_to({"type": "attach", "conversation": started["conversation"]})
    # The new title (a `conversation` frame, after the first reply) may reach this socket first.
    before_snapshot = await frames_until(sockets[1], "snapshot")
    assert {f["type"] for f in before_snapshot[:-1]} <= {"conversation"}

    await sockets[0].send_json_to(
        send_frame("[fake:chunks=20] [fake:delay=0.01]", started["conversation"], "c2")
    )
    seen = [await frames_until(socket, "done") for socket in sockets]
    replies = [[f for f in frames if f["type"] in ("started", "delta", "done")] for frames in seen]
    assert replies[0] == replies[1]
    assert replies[0][0]["id"] == "c2" and joined(replies[0]) == " ".join(f"word{i}" for i in range(1, 21))
    for socket in sockets:
        await socket.disconnect()


async def test_attach_with_nothing_in_flight_is_an_idle_snapshot(alice, fake):
    conversation = await conversation_of(alice)
    socket = await connected(alice)
    await socket.send_json_to({"type": "attach", "conversation": conversation.pk})
    assert await socket.receive_json_from() == {
        "type": "snapshot",
        "conversation": conversation.pk,
        "message": None,
        "content": "",
        "seq": 0,
        "streaming": False,
    }
    await socket.disconnect()


async def test_a_reply_left_streaming_by_a_dead_process_is_interrupted_with_its_text(alice, fake):
    conversation = await conversation_of(alice)
    orphan = await sync_to_async(Message.objects.create)(
        conversation=conversation,
        role="assistant",
        content="half an ans",
        status="streaming",
        worker="dead:1:x",
    )
    socket = await connected(alice)  # the process's runtime starts here and recovers
    await sync_to_async(orphan.refresh_from_db)()
    assert (orphan.status, orphan.finish_reason, orphan.content) == ("done", "interrupted", "half an ans")
    await socket.disconnect()


@pytest.mark.redis
async def test_attach_to_a_reply_running_nowhere_ends_it_as_interrupted(alice, team_key, fake):
    socket = await connected(alice)
    conversation = await conversation_of(alice)
    orphan = await sync_to_async(Message.objects.create)(
        conversation=conversation, role="assistant", content="partial", status="streaming", worker="gone:2:y"
    )
    await socket.send_json_to({"type": "attach", "conversation": conversation.pk})
    frames = await frames_until(socket, "snapshot")
    assert frames[0] == {
        "type": "done",
        "conversation": conversation.pk,
        "message": orphan.pk,
        "finish_reason": "interrupted",
        # Estimated from the text kept ("partial": 7 characters), the upstream's count being lost.
        "usage": {"prompt_tokens": 0, "completion_tokens": 2, "total_tokens": 2},
        # Like every done (one builder, frames.done): estimated, and what was saved of it.
        "usage_estimated": True,
        "served_model": None,
        "seq": 0,
        "length": 7,
        # (extension) what the reply was sent with: none recorded for this row.
        "parameters": None,
    }
    assert frames[-1]["streaming"] is False
    # And the conversation is free again.
    await socket.send_json_to(send_frame("again", conversation=conversation.pk))
    assert (await frames_until(socket, "done"))[-1]["finish_reason"] == "stop"
    await socket.disconnect()


async def test_checkpoints_save_the_text_while_it_streams(alice, team_key, fake, settings):
    settings.TOKENOFF_CHECKPOINT_SECONDS = 0.1
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=100] [fake:delay=0.01]"))
    started = await socket.receive_json_from()

    async def saved_mid_reply():
        reply = (await messages_of(started["conversation"]))[-1]
        return reply.status == "streaming" and reply.content.startswith("word1") and reply.last_seq > 0

    seen = False
    for _ in range(100):
        if await saved_mid_reply():
            seen = True
            break
        await asyncio.sleep(0.02)
    assert seen
    await frames_until(socket, "done")
    await socket.disconnect()


async def test_the_handshake_needs_a_session(fake):
    socket = await open_socket(user=None)
    connected_, _ = await socket.connect()
    assert not connected_


@pytest.mark.parametrize("origin", [None, "null", "http://evil.example", "http://localhost.evil.example"])
async def test_the_handshake_refuses_foreign_origins(alice, fake, origin):
    socket = await open_socket(alice, origin=origin)
    connected_, _ = await socket.connect()
    assert not connected_


async def test_an_inactive_user_cannot_connect(alice, fake):
    socket = await open_socket(alice)
    alice.is_active = False
    await sync_to_async(alice.save)()
    connected_, _ = await socket.connect()
    assert not connected_


# Access, parameter profiles and system prompts ---------------------------------------------


@sync_to_async
def keep_for_group(model_name: str, group_name: str, *members) -> None:
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=group_name)
    group.user_set.add(*members)
    ChatModel.objects.get(name=model_name).groups.add(group)


async def test_a_model_kept_for_another_group_is_unavailable_and_nothing_is_saved(alice, bob, team_key, fake):
    await keep_for_group("o3", "Research", bob)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("Hello", model="o3"))
    error = await socket.receive_json_from()
    assert (error["type"], error["code"], error["id"]) == ("error", "model_unavailable", "c1")
    assert not await sync_to_async(Conversation.objects.exists)() and chat_requests(fake) == []
    await socket.disconnect()

    socket = await connected(bob)
    await socket.send_json_to(send_frame("Hello", model="o3"))
    frames = await frames_until(socket, "done")
    assert frames[0]["model"] == "o3" and frames[-1]["finish_reason"] == "stop"
    await socket.disconnect()


async def test_a_conversation_whose_model_was_taken_away_refuses_a_send_without_a_model(
    alice, bob, team_key, fake
):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("Hello", model="o3"))
    first = await frames_until(socket, "done")
    await keep_for_group("o3", "Research", bob)
    await socket.send_json_to(send_frame("Again", conversation=first[0]["conversation"], client_id="c2"))
    error = (await frames_until(socket, "error"))[-1]  # after the new conversation's title
    assert error["code"] == "model_unavailable" and error["conversation"] == first[0]["conversation"]
    await socket.disconnect()


async def test_a_reasoning_model_is_asked_without_temperature(alice, team_key, fake):
    # Set behind the admin's back (the admin refuses it): the request still leaves it out.
    await sync_to_async(ChatModel.objects.filter(name="o3").update)(
        temperature=0.7, reasoning_effort="high", max_output_tokens=900
    )
    socket = await connected(alice)
    await socket.send_json_to(send_frame("Think hard", model="o3"))
    frames = await frames_until(socket, "done")
    assert frames[-1]["finish_reason"] == "stop"
    body = chat_requests(fake)[0].body
    assert body["model"] == "o3" and "temperature" not in body and "max_tokens" not in body
    assert body["reasoning_effort"] == "high" and body["max_completion_tokens"] == 900
    await socket.disconnect()


async def test_a_new_conversation_starts_with_the_users_default_system_prompt(alice, team_key, fake):
    from chat.models import Preferences

    await sync_to_async(Preferences.objects.create)(user=alice, system_prompt="Answer in French.")
    socket = await connected(alice)
    await socket.send_json_to(send_frame("Hello"))
    frames = await frames_until(socket, "done")
    messages = chat_requests(fake)[0].body["messages"]
    assert messages == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Hello"},
    ]
    conversation = await sync_to_async(Conversation.objects.get)(pk=frames[0]["conversation"])
    assert conversation.system_prompt == "Answer in French."

    await socket.send_json_to(send_frame("More", conversation=conversation.pk, client_id="c2"))
    await frames_until(socket, "done")
    assert [m["role"] for m in chat_requests(fake)[-1].body["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    await socket.disconnect()


@pytest.mark.parametrize("given", ["Be terse.", ""])
async def test_a_send_can_give_a_new_conversation_its_own_system_prompt(given, alice, team_key, fake):
    from chat.models import Preferences

    await sync_to_async(Preferences.objects.create)(user=alice, system_prompt="The default.")
    socket = await connected(alice)
    await socket.send_json_to({**send_frame("Hello"), "system_prompt": given})
    await frames_until(socket, "done")
    messages = chat_requests(fake)[0].body["messages"]
    expected = [{"role": "system", "content": given}] if given else []
    assert messages == [*expected, {"role": "user", "content": "Hello"}]
    await socket.disconnect()


@pytest.mark.parametrize(
    ("extra", "code"),
    [({"system_prompt": 5}, "bad_request"), ({"system_prompt": "x" * 40_000}, "too_large")],
)
async def test_a_bad_system_prompt_is_refused(extra, code, alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to({**send_frame("Hello"), **extra})
    error = await socket.receive_json_from()
    assert error["code"] == code and error["id"] == "c1"
    assert not await sync_to_async(Conversation.objects.exists)()
    await socket.disconnect()


async def test_a_system_prompt_in_a_send_to_an_existing_conversation_is_a_bad_request(alice, team_key, fake):
    conversation = await conversation_of(alice)
    socket = await connected(alice)
    await socket.send_json_to({**send_frame("Hi", conversation=conversation.pk), "system_prompt": "x"})
    error = await socket.receive_json_from()
    assert error["code"] == "bad_request" and "new conversation" in error["message"]
    await socket.disconnect()


# A user who may no longer chat ---------------------------------------------------------------


async def test_a_deactivated_users_next_frame_is_refused_and_the_socket_closed(alice, team_key, fake):
    socket = await connected(alice)
    # Deactivated without the signal, as if the close event had been lost on the way.
    await sync_to_async(type(alice).objects.filter(pk=alice.pk).update)(is_active=False)
    await socket.send_json_to(send_frame("Hello"))
    assert await close_code(socket) == 4401
    assert not await sync_to_async(Conversation.objects.exists)() and chat_requests(fake) == []
