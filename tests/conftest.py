"""Shared fixtures: users, keys, and the fake upstream over real HTTP."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connections

from chat.fake_upstream import FakeUpstream
from chat.models import ApiKey

CANARY_KEY = "sk-canary-0123456789abcdefCANARY"


@pytest.fixture(scope="session")
def fake_server():
    server = FakeUpstream()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server, settings):
    """The fake upstream, with the site pointed at it and its request log cleared."""
    fake_server.reset()
    settings.TOKENOFF_BASE_URL = fake_server.base_url
    settings.TOKENOFF_COALESCE_SECONDS = 0.01
    settings.TOKENOFF_MAX_RETRIES = 0
    return fake_server


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def team_key(db):
    return ApiKey.store(CANARY_KEY)


def chat_requests(fake: FakeUpstream) -> list:
    return [
        r for r in fake.requests if r.path.endswith("/chat/completions") and r.body and r.body.get("stream")
    ]


async def wait_until(predicate, timeout: float = 5.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


__all__ = ["CANARY_KEY", "chat_requests", "get_user_model", "wait_until"]


def pytest_collection_modifyitems(items) -> None:
    # Only coroutine tests get the loop clean-up: sync tests may run Playwright, which owns the
    # main thread's loop while it lives.
    for item in items:
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.append("_clean_loop")


@pytest.fixture
async def _clean_loop():
    """Each test's event loop ends with no reply task running and no upstream connection open."""
    from chat import replies, upstream

    yield
    await replies.shutdown()
    await upstream.aclose()
    # channels_redis binds its receive lock to the loop of the first receive, and a test's loop
    # can end while a receive holds it: each test's loop gets a layer of its own.
    from channels.layers import channel_layers

    for layer in list(channel_layers.backends.values()):
        if hasattr(layer, "close_pools"):
            await layer.close_pools()
    channel_layers.backends.clear()
    # The reply tasks' database connections live in asgiref's sync thread: close them there, so
    # that PostgreSQL can drop the test database at the end.
    await sync_to_async(connections.close_all)()


def require(available: bool, reason: str) -> None:
    """Skip with the reason when a service is missing; under .ci/run (TOKENOFF_REQUIRE_ALL) fail instead."""
    import os

    if available:
        return
    if os.environ.get("TOKENOFF_REQUIRE_ALL"):
        pytest.fail(f"{reason} (TOKENOFF_REQUIRE_ALL is set: nothing may be skipped)")
    pytest.skip(reason)


def reachable(host: str, port: int) -> bool:
    import socket

    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except OSError:
        return False
    return True


POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def postgres_and_redis():
    require(reachable("127.0.0.1", 5432), "needs PostgreSQL on 127.0.0.1:5432 (trust auth for postgres)")
    require(reachable("127.0.0.1", 6379), "needs Redis on 127.0.0.1:6379")
    return POSTGRES_URL, REDIS_URL
