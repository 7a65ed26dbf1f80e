"""Every line of the protocol against a real daphne process, over real sockets."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.conftest import CANARY_KEY, chat_requests
from tests.e2e.client import SiteClient, frames_until, until_checkpointed

# How many more chunks the upstream may send after a stop is asked: a second's worth at 50 ms a chunk.
STOPPED_WITHIN_CHUNKS = 20


def joined(frames: list[dict]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "delta")


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(1, n + 1))


async def export(client: SiteClient, conversation: int) -> dict:
    status, body = await client.get(f"/c/{conversation}/export.json")
    assert status == 200
    return json.loads(body)


async def test_a_reply_streams_through_daphne_and_is_saved(as_alice, fake_server):
    ws = await as_alice.socket()
    await ws.send_json(
        {"type": "send", "id": "live-1", "conversation": None, "content": "[fake:chunks=40] hi"}
    )
    frames = await frames_until(ws, "done")
    assert frames[0]["type"] == "started" and frames[-1]["finish_reason"] == "stop"
    assert joined(frames) == words(40)
    saved = await export(as_alice, frames[0]["conversation"])
    assert [m["content"] for m in saved["messages"]] == ["[fake:chunks=40] hi", words(40)]
    assert chat_requests(fake_server)[0].authorization == f"Bearer {CANARY_KEY}"
    await ws.close()


async def test_stop_closes_the_upstream_request_within_a_second(as_alice, fake_server):
    ws = await as_alice.socket()
    await ws.send_json(
        {"type": "send", "id": "s", "conversation": None, "content": "[fake:chunks=500] [fake:delay=0.05]"}
    )
    started = await ws.receive_json(timeout=10)
    first = await ws.receive_json(timeout=10)
    request = chat_requests(fake_server)[0]
    sent_before = request.chunks_sent
    await ws.send_json({"type": "stop", "conversation": started["conversation"]})
    frames = [started, first, *await frames_until(ws, "done")]
    assert frames[-1]["finish_reason"] == "stopped"
    # At once, counted in the upstream's own chunks (50 ms apart: a second is 20) rather than in the
    # runner's seconds, which a busy machine stretches: it was closed mid-stream, a few chunks on.
    assert fake_server.wait_for(lambda: request.client_closed, timeout=10)
    assert not request.completed and request.chunks_sent - sent_before <= STOPPED_WITHIN_CHUNKS
    saved = await export(as_alice, started["conversation"])
    assert (
        saved["messages"][-1]["content"] == joined(frames)
        and saved["messages"][-1]["finish_reason"] == "stopped"
    )
    await ws.close()


async def test_leaving_mid_reply_lets_it_finish_and_a_new_socket_can_attach(as_alice):
    ws = await as_alice.socket()
    await ws.send_json(
        {"type": "send", "id": "l", "conversation": None, "content": "[fake:chunks=80] [fake:delay=0.02]"}
    )
    started = await ws.receive_json(timeout=10)
    await ws.receive_json(timeout=10)
    await ws.close()  # the browser goes away (a reload)

    again = await as_alice.socket()
    await again.send_json({"type": "attach", "conversation": started["conversation"]})
    frames = await frames_until(again, "done")
    snapshot = frames[0]
    assert (
        snapshot["type"] == "snapshot" and snapshot["streaming"] and snapshot["message"] == started["message"]
    )
    assert snapshot["content"] + joined(frames) == words(80)
    saved = await export(as_alice, started["conversation"])
    assert saved["messages"][-1]["content"] == words(80)
    await again.close()


async def test_errors_answer_without_closing_the_socket(as_alice):
    ws = await as_alice.socket()
    await ws.send_str("{nonsense")
    assert (await ws.receive_json(timeout=5))["code"] == "bad_request"
    await ws.send_json({"type": "send", "id": "e", "conversation": None, "content": "[fake:status=429] hi"})
    frames = await frames_until(ws, "done")
    assert [f["type"] for f in frames] == ["started", "error", "done"]
    assert frames[1]["code"] == "upstream_rate_limited" and frames[2]["finish_reason"] == "error"
    await ws.close()


async def test_another_users_conversation_is_not_found_on_every_frame_and_url(as_alice, as_bob):
    ws = await as_alice.socket()
    await ws.send_json(
        {"type": "send", "id": "p", "conversation": None, "content": "[fake:chunks=2] private"}
    )
    conversation = (await frames_until(ws, "done"))[0]["conversation"]
    await ws.close()

    theirs = await as_bob.socket()
    for frame in (
        {"type": "send", "id": "x", "conversation": conversation, "content": "let me in"},
        {"type": "attach", "conversation": conversation},
        {"type": "stop", "conversation": conversation},
    ):
        await theirs.send_json(frame)
        assert (await theirs.receive_json(timeout=5))["code"] == "not_found"
    for path in (f"/c/{conversation}/", f"/c/{conversation}/export.json", f"/c/{conversation}/export.md"):
        status, body = await as_bob.get(path)
        assert status == 404 and "private" not in body
    await theirs.close()


async def test_the_handshake_is_refused_without_a_session_or_from_another_origin(live, as_alice):
    anonymous = SiteClient(live.base_url)
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await anonymous.socket()
    finally:
        await anonymous.close()
    for origin in ("http://evil.example", "null"):
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await as_alice.socket(origin=origin)


async def test_static_files_are_served_by_daphne(as_alice):
    status, html = await as_alice.get("/")
    assert status == 200 and "/static/" in html
    status, _ = await as_alice.get("/static/chat/main.js")
    assert status == 200


# Both passes: its daphnes use the suite's database and layer; with Redis the dead owner is found by its
# heartbeat.
@pytest.mark.redis
@pytest.mark.postgres
async def test_a_killed_process_leaves_an_interrupted_reply_not_a_hang(fake_server, tmp_path):
    from tests.e2e.live import LiveSite

    site = LiveSite(tmp_path, fake_server.base_url)
    try:
        site.create_user("carol", "carol-live-password-1", key="sk-carol-0000")
        first = site.start()
        client = SiteClient(first)
        await client.log_in("carol", "carol-live-password-1")
        ws = await client.socket()
        await ws.send_json(
            {
                "type": "send",
                "id": "k",
                "conversation": None,
                "content": "[fake:chunks=400] [fake:delay=0.02]",
            }
        )
        started = await ws.receive_json(timeout=10)
        await until_checkpointed(client, started["conversation"])
        site.kill(0)
        await client.close()

        second = site.start()
        client = SiteClient(second)
        await client.log_in("carol", "carol-live-password-1")
        ws = await client.socket()
        await ws.send_json({"type": "attach", "conversation": started["conversation"]})
        # With Redis the owner is declared dead once its heartbeat is 10 s old: allow for that.
        snapshot = await frames_until(ws, "snapshot", timeout=25)
        assert snapshot[-1]["streaming"] is False
        saved = await export(client, started["conversation"])
        reply = saved["messages"][-1]
        assert reply["finish_reason"] == "interrupted" and reply["content"].startswith("word1 word2")
        await client.close()
    finally:
        site.stop()


def test_the_key_appears_in_no_server_log(live):
    # Last in the module: every request above went through these processes.
    logs = [live.log(index) for index in range(len(live.processes))]
    assert all(logs) and not any(CANARY_KEY in log or CANARY_KEY[-12:] in log for log in logs)
