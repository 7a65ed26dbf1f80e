"""Shared fixtures: users, keys, and the fake upstream over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import inspect

import pytest
from asgiref.sync import sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.contrib.auth import get_user_model
from django.db import connections

from chat.demo.harness import FakeUpstream
from chat.models import ApiKey

CANARY_KEY = "sk-canary-0123456789abcdefCANARY"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters are per user id, and ids repeat from test to test."""
    from django.core.cache import cache

    cache.clear()


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


def _on_postgresql() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_report_header(config) -> str:
    if _on_postgresql():
        return "database: PostgreSQL (the postgres_only tests run)"
    return "database: SQLite (the postgres_only tests are left to the PostgreSQL pass of .ci/run)"


def pytest_collection_modifyitems(config, items) -> None:
    # Only coroutine tests get the loop clean-up: sync tests may run Playwright, which owns the
    # main thread's loop while it lives.
    for item in items:
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.append("_clean_loop")
        # A test that asks for the servers themselves belongs to the pass that has them (.ci/run).
        if "postgres_and_redis" in item.fixturenames:
            item.add_marker(pytest.mark.services)
    # Tests of PostgreSQL's own features (full-text search, its indexes, statement timeouts) belong to
    # the PostgreSQL pass: on SQLite they are deselected, not skipped, and the header says so.
    if not _on_postgresql():
        kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
        if len(kept) < len(items):
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept


@pytest.fixture
async def _clean_loop():
    """Each test's event loop ends with no reply task running and no upstream connection open."""
    from chat.realtime import runtime
    from chat.upstream import client as upstream

    yield
    await runtime.shutdown()
    await upstream.aclose()
    # A served process has one loop and one channel layer; tests make a loop each. channels_redis
    # keeps per-channel asyncio locks that a closed loop can leave held, so the next test gets a
    # fresh layer instead of inheriting them ("Lock is bound to a different event loop").
    layer = channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    if layer is not None and hasattr(layer, "close_pools"):
        # A blocking pop cancelled mid-read can keep its connection busy: don't wait on it for ever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(layer.close_pools(), 5)
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


@pytest.fixture
def staff(django_user_model):
    """Staff, but without the review permission."""
    return django_user_model.objects.create_user("sam", password="sam-password-1", is_staff=True)


@pytest.fixture
def reviewer(django_user_model):
    """A member of the Reviewers group that migration 0005 creates."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("rita", password="rita-password-1")
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user
