"""The socket's own defences: void sessions closed, no hint of others' conversations, bad frames, floods."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat.models import Conversation, Message
from chat.realtime import rate_limit as limits
from chat.realtime import sessions
from tests.ws import ORIGIN, close_code, connected, frames_until, send_frame
from tokenoff_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SLOW = "[fake:chunks=400] [fake:delay=0.05]"
NEW_PASSWORD = "a-brand-new-Passphrase-71"


async def signed_in(user) -> Client:
    client = Client()
    await sync_to_async(client.force_login)(user)
    return client


async def socket_of(client: Client) -> WebsocketCommunicator:
    """A socket opened with that browser's session."""
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"cookie", cookie), (b"origin", ORIGIN.encode())]
    socket = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    ok, _ = await socket.connect()
    assert ok, "the handshake was refused"
    return socket


async def answer(socket: WebsocketCommunicator, frame: dict) -> dict:
    await socket.send_json_to(frame)
    return await socket.receive_json_from(timeout=5)


async def still_open(socket: WebsocketCommunicator) -> None:
    """Two round trips: a session check already queued for the socket is done by the second."""
    for _ in range(2):
        reply = await answer(socket, {"type": "attach", "conversation": 2**62})
        assert reply["type"] == "error" and reply["code"] == "not_found"


@sync_to_async
def conversation_of(user) -> Conversation:
    return Conversation.objects.create(owner=user, title="mine", model="gpt-4.1")


@sync_to_async
def saved_rows() -> tuple[int, int]:
    return Conversation.objects.count(), Message.objects.count()


# A password change voids the sessions: their sockets close -------------------------------------


@pytest.mark.redis
async def test_a_password_change_closes_the_sockets_of_the_sessions_it_voids(alice, bob):
    elsewhere = await connected(alice)  # another browser of alice's
    bobs = await connected(bob)
    browser = await signed_in(alice)
    here = await socket_of(browser)  # a chat tab of the browser that changes the password

    response = await sync_to_async(browser.post)(
        "/accounts/password_change/",
        {"old_password": "alice-password-1", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, "the password was not changed"

    assert await close_code(elsewhere) == sessions.SIGNED_OUT
    # That browser stays signed in under a new session key (update_session_auth_hash): the socket of
    # the old key closes too, and the page's next socket opens with the new one.
    assert await close_code(here) == sessions.SIGNED_OUT
    again = await socket_of(browser)
    await still_open(again)
    await still_open(bobs)
    await again.disconnect()
    await bobs.disconnect()


@pytest.mark.redis
async def test_an_admin_setting_a_password_closes_every_socket_of_the_user(alice, bob, django_user_model):
    root = await sync_to_async(django_user_model.objects.create_superuser)("root", password="root-password-1")
    sockets = [await connected(alice), await connected(alice)]
    bobs = await connected(bob)
    admin = await signed_in(root)

    response = await sync_to_async(admin.post)(
        f"/admin/auth/user/{alice.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302, "the password was not set"

    for socket in sockets:
        assert await close_code(socket) == sessions.SIGNED_OUT
    await still_open(bobs)
    await bobs.disconnect()


@pytest.mark.redis
async def test_a_socket_that_missed_the_event_is_closed_at_its_next_frame(alice, monkeypatch):
    async def lost(user_id):  # Redis away for a moment: the event never arrives
        return None

    monkeypatch.setattr(sessions, "recheck_user_sessions", lost)
    socket = await connected(alice)
    await still_open(socket)

    alice.set_password(NEW_PASSWORD)
    await sync_to_async(alice.save)()

    await socket.send_json_to({"type": "attach", "conversation": 2**62})
    assert await close_code(socket) == sessions.SIGNED_OUT


# Another user's conversation is not_found, in flight or not -----------------------------------


async def test_another_users_conversation_in_flight_is_not_found_never_busy(alice, bob, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame(SLOW))
    started = await socket.receive_json_from(timeout=5)
    assert started["type"] == "started"
    conversation = started["conversation"]
    bobs = await connected(bob)

    frames = [
        send_frame("Let me in", conversation=conversation, client_id="b1"),
        {"type": "regenerate", "id": "b2", "conversation": conversation, "message": started["message"]},
        {"type": "stop", "conversation": conversation},
        {"type": "attach", "conversation": conversation},
    ]
    for frame in frames:
        error = await answer(bobs, frame)
        assert (error["type"], error["code"]) == ("error", "not_found"), frame["type"]

    # To alice, whose conversation it is, busy it is.
    await socket.send_json_to(send_frame("Again", conversation=conversation, client_id="a2"))
    busy = (await frames_until(socket, "error"))[-1]
    assert busy["code"] == "busy" and busy["id"] == "a2"
    await socket.send_json_to({"type": "stop", "conversation": conversation})
    await frames_until(socket, "done")
    await socket.disconnect()
    await bobs.disconnect()


# Bad input over the socket: an error frame with a protocol code, the socket open, nothing saved ---

NOT_AN_ID = [
    "\u0661\u0662",  # Arabic-Indic digits: a string, and not ASCII either
    "12",
    -1,
    0,
    -(2**63) - 1,
    1.5,
    1e300,
    10**30,  # parsed as a float
    True,
    {"id": 1},
    [1],
    {"a": {"b": [1, {"c": None}]}},
    "1\x00",
]
PAST_ANY_ID = [2**63, 2**64 - 1]  # integers the database cannot hold: no such thing
NOT_TEXT = [7, 1.5, True, {"text": "hi"}, ["hi"], {"a": {"b": ["c"]}}, "a\x00b", "\x00"]


def bad_values(kind: str) -> list[tuple[object, str]]:
    """The values to try in a field of that kind, each with the code it must get."""
    if kind == "id":
        past = [(value, "not_found") for value in PAST_ANY_ID]
        return [(value, "bad_request") for value in NOT_AN_ID] + past
    if kind == "required id":
        return [*bad_values("id"), (None, "bad_request")]
    return [(value, "bad_request") for value in NOT_TEXT]


def bad_frames(conversation: int, question: int, reply: int) -> list[tuple[str, dict, str]]:
    """Every field of every client frame, spoilt in every way: (label, frame, the code it must get)."""
    new = {"type": "send", "id": "t1", "conversation": None, "content": "Hello"}
    follow_up = {"type": "send", "id": "t1", "conversation": conversation, "content": "Hello"}
    edit = {**follow_up, "edit": question}
    regenerate = {"type": "regenerate", "id": "t1", "conversation": conversation, "message": reply}
    stop = {"type": "stop", "conversation": conversation}
    attach = {"type": "attach", "conversation": conversation}
    table = [
        (new, {"type": "text", "id": "text", "model": "text", "content": "text", "system_prompt": "text"}),
        (follow_up, {"conversation": "id"}),  # null is a new conversation
        (edit, {"edit": "id"}),
        (regenerate, {"type": "text", "id": "text", "conversation": "required id", "message": "required id"}),
        (regenerate, {"model": "text"}),
        (stop, {"type": "text", "conversation": "required id"}),
        (attach, {"type": "text", "conversation": "required id"}),
    ]
    extra = {  # empty and over-long values, per field
        "id": [("", "bad_request"), ("x" * 65, "bad_request")],
        "content": [("", "bad_request"), ("  \n", "bad_request"), ("x" * 32_001, "too_large")],
        "model": [("", "bad_request"), (" ", "bad_request")],
        "system_prompt": [("x" * 32_001, "too_large")],
        "type": [("", "bad_request"), ("send\x00", "bad_request"), (None, "bad_request")],
    }
    frames = []
    for base, fields in table:
        for field, kind in fields.items():
            for value, code in bad_values(kind) + extra.get(field, []):
                if field == "type" and code == "not_found":
                    continue
                frames.append((f"{base['type']}.{field}={value!r:.40}", {**base, field: value}, code))
    return frames


@sync_to_async
def a_finished_exchange(user) -> tuple[int, int, int]:
    conversation = Conversation.objects.create(owner=user, title="mine", model="gpt-4.1")
    question = Message.objects.create(conversation=conversation, role="user", content="Hi", model="gpt-4.1")
    reply = Message.objects.create(
        conversation=conversation, parent=question, role="assistant", content="Hello", model="gpt-4.1"
    )
    return conversation.pk, question.pk, reply.pk


@pytest.mark.postgres
async def test_every_bad_field_of_every_frame_gets_an_error_and_saves_nothing(
    alice, team_key, fake, settings
):
    settings.TOKENOFF_FRAMES_PER_SECOND = 0  # hundreds of frames: this test is not about floods
    conversation, question, reply = await a_finished_exchange(alice)
    before = await saved_rows()
    socket = await connected(alice)

    for label, frame, code in bad_frames(conversation, question, reply):
        answered = await answer(socket, frame)
        assert (answered["type"], answered.get("code")) == ("error", code), f"{label}: {answered}"

    # The socket is open and the conversation untouched; nothing went upstream.
    snapshot = await answer(socket, {"type": "attach", "conversation": conversation})
    assert snapshot["type"] == "snapshot" and snapshot["streaming"] is False
    assert await saved_rows() == before
    assert not fake.requests
    await socket.disconnect()


async def test_frames_that_are_no_object_get_an_error_too(alice):
    socket = await connected(alice)
    for text in [" ", "null", "[]", '"send"', "12", "1e400", '{"type": "send"', '{"type": "\\ud800"}']:
        await socket.send_to(text_data=text)
        answered = await socket.receive_json_from(timeout=5)
        assert (answered["type"], answered["code"]) == ("error", "bad_request"), text
    await socket.send_to(bytes_data=b'{"type": "attach", "conversation": 1}')
    assert (await socket.receive_json_from(timeout=5))["code"] == "bad_request"
    await still_open(socket)
    await socket.disconnect()


# A flood of frames is warned once, then closed ------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_refills_at_its_rate_up_to_its_burst():
    clock = FakeClock()
    bucket = limits.FrameBucket(rate=10, burst=3, now=clock)
    assert [bucket.take() for _ in range(3)] == [0, 0, 0]
    assert bucket.take() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.take() == 0
    clock.now += 3600  # a long pause refills the burst, no more
    assert [bucket.take() for _ in range(3)] == [0, 0, 0]
    assert bucket.take() > 0


async def test_a_socket_flooding_frames_is_warned_then_closed(alice, settings, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(limits, "clock", clock)
    settings.TOKENOFF_FRAMES_PER_SECOND = 10
    settings.TOKENOFF_FRAME_BURST = 30
    conversation = (await conversation_of(alice)).pk
    socket = await connected(alice)
    other_tab = await connected(alice)
    attach = {"type": "attach", "conversation": conversation}

    for _ in range(30):  # the burst: all answered
        assert (await answer(socket, attach))["type"] == "snapshot"
    warning = await answer(socket, attach)
    assert (warning["type"], warning["code"], warning["retry_after"]) == ("error", "rate_limited", 1)

    clock.now += 0.1  # one frame's worth: served again, and the warning forgotten
    assert (await answer(socket, attach))["type"] == "snapshot"
    assert (await answer(socket, attach))["code"] == "rate_limited"
    assert (await answer(other_tab, attach))["type"] == "snapshot"  # a bucket per socket

    await socket.send_json_to(attach)  # still empty after the warning: closed
    assert await close_code(socket) == 4429
    await other_tab.disconnect()


async def test_a_warned_send_gets_its_id_back(alice, settings, monkeypatch):
    monkeypatch.setattr(limits, "clock", FakeClock())
    settings.TOKENOFF_FRAMES_PER_SECOND = 1
    settings.TOKENOFF_FRAME_BURST = 1
    socket = await connected(alice)
    await answer(socket, {"type": "attach", "conversation": 2**62})
    warning = await answer(socket, send_frame("Hello", client_id="c9"))
    assert (warning["code"], warning["id"]) == ("rate_limited", "c9")
    await socket.disconnect()
