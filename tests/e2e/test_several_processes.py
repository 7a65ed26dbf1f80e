"""Two daphne processes on one PostgreSQL and one Redis: a reply is followed and stopped from either."""

from __future__ import annotations

import json

import pytest

from tests.conftest import chat_requests
from tests.e2e.client import SiteClient, frames_until, until_checkpointed
from tests.e2e.live import LiveSite
from tests.e2e.test_live_protocol import STOPPED_WITHIN_CHUNKS

# Pass 2 only: two daphnes on the PostgreSQL and Redis servers, whatever the pass's settings.
pytestmark = pytest.mark.services
PASSWORD = "dana-live-password-1"


@pytest.fixture
async def two_processes(postgres_and_redis, fake_server, tmp_path):
    database_url, redis_url = postgres_and_redis
    site = LiveSite(tmp_path, fake_server.base_url, database_url=database_url, redis_url=redis_url)
    site.create_user("dana", PASSWORD, key="sk-dana-0000")
    urls = [site.start(), site.start()]
    clients = [SiteClient(url) for url in urls]
    for client in clients:
        await client.log_in("dana", PASSWORD)
    fake_server.reset()
    yield site, clients
    for client in clients:
        await client.close()
    site.stop()


def joined(frames: list[dict]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "delta")


async def test_a_reply_on_one_process_is_followed_from_the_other(two_processes):
    _, (one, other) = two_processes
    here = await one.socket()
    await here.send_json(
        {"type": "send", "id": "a", "conversation": None, "content": "[fake:chunks=80] [fake:delay=0.02]"}
    )
    started = await here.receive_json(timeout=10)
    await here.receive_json(timeout=10)

    there = await other.socket()
    await there.send_json({"type": "attach", "conversation": started["conversation"]})
    seen_there = await frames_until(there, "done")
    seen_here = await frames_until(here, "done")
    snapshot = seen_there[0]
    assert (
        snapshot["type"] == "snapshot" and snapshot["streaming"] and snapshot["message"] == started["message"]
    )
    whole = " ".join(f"word{i}" for i in range(1, 81))
    assert snapshot["content"] + joined(seen_there) == whole
    later = [f["seq"] for f in seen_there if f["type"] == "delta"]
    assert later == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(later)))
    assert seen_here[-1] == seen_there[-1]


async def test_a_reply_is_stopped_from_the_other_process(two_processes, fake_server):
    _, (one, other) = two_processes
    here = await one.socket()
    await here.send_json(
        {"type": "send", "id": "b", "conversation": None, "content": "[fake:chunks=500] [fake:delay=0.05]"}
    )
    started = await here.receive_json(timeout=10)
    there = await other.socket()
    await there.send_json({"type": "attach", "conversation": started["conversation"]})
    await frames_until(there, "snapshot")
    request = chat_requests(fake_server)[0]
    sent_before = request.chunks_sent
    await there.send_json({"type": "stop", "conversation": started["conversation"]})
    done = (await frames_until(there, "done"))[-1]
    assert done["finish_reason"] == "stopped"
    # At once, across the processes, counted in the upstream's own chunks rather than in the runner's
    # seconds (tests/e2e/test_live_protocol.py says why).
    assert fake_server.wait_for(lambda: request.client_closed, timeout=10)
    assert not request.completed and request.chunks_sent - sent_before <= STOPPED_WITHIN_CHUNKS
    assert (await frames_until(here, "done"))[-1]["finish_reason"] == "stopped"


async def test_killing_the_owner_mid_reply_ends_it_interrupted(two_processes):
    site, (one, other) = two_processes
    here = await one.socket()
    await here.send_json(
        {"type": "send", "id": "c", "conversation": None, "content": "[fake:chunks=500] [fake:delay=0.02]"}
    )
    started = await here.receive_json(timeout=10)
    await until_checkpointed(other, started["conversation"])
    site.kill(0)

    there = await other.socket()
    await there.send_json({"type": "attach", "conversation": started["conversation"]})
    frames = await frames_until(there, "snapshot", timeout=25)
    assert frames[-1]["streaming"] is False
    assert any(f["type"] == "done" and f["finish_reason"] == "interrupted" for f in frames)
    _, body = await other.get(f"/c/{started['conversation']}/export.json")
    reply = json.loads(body)["messages"][-1]
    assert reply["finish_reason"] == "interrupted" and reply["content"].startswith("word1 word2")
