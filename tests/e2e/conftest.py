"""Fixtures for the end-to-end tests: a live daphne on its own database, users with keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CANARY_KEY, POSTGRES_URL, REDIS_URL, reachable, require
from tests.e2e.client import SiteClient
from tests.e2e.live import LiveSite, start_nginx

USERS = {"alice": "alice-live-password-1", "bob": "bob-live-password-1"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


# Two daphnes behind nginx need the PostgreSQL and Redis servers whatever the pass's settings: marked
# `services`, so .ci/run runs them in its PostgreSQL and Redis pass only, and the one-daphne variant in
# its SQLite pass (pyproject.toml says which marker runs where).
@pytest.fixture(
    scope="module",
    params=["one-daphne", pytest.param("nginx-two-daphnes", marks=pytest.mark.services)],
)
def live(request, fake_server, tmp_path_factory):
    """The same tests on one daphne (the suite's database) and on two behind nginx (PostgreSQL, Redis)."""
    tmp = tmp_path_factory.mktemp("live")
    nginx = None
    if request.param == "one-daphne":
        site = LiveSite(tmp, fake_server.base_url)
    else:
        require(reachable("127.0.0.1", 5432), "needs PostgreSQL on 127.0.0.1:5432 (trust auth for postgres)")
        require(reachable("127.0.0.1", 6379), "needs Redis on 127.0.0.1:6379")
        require(shutil.which("nginx") is not None, "needs Debian's nginx (apt-get install nginx-light)")
        site = LiveSite(tmp, fake_server.base_url, database_url=POSTGRES_URL, redis_url=REDIS_URL)
    site.create_user("alice", USERS["alice"], key=CANARY_KEY)
    site.create_user("bob", USERS["bob"], key="sk-bob-live-key-9999")
    site.base_url = site.start()
    if request.param != "one-daphne":
        site.start()
        nginx, site.base_url = start_nginx(tmp, site.ports)
    yield site
    if nginx is not None:
        nginx.terminate()
        nginx.wait(timeout=5)
    site.stop()


@pytest.fixture
async def as_alice(live, fake_server):
    fake_server.reset()
    client = SiteClient(live.base_url)
    await client.log_in("alice", USERS["alice"])
    yield client
    await client.close()


@pytest.fixture
async def as_bob(live):
    client = SiteClient(live.base_url)
    await client.log_in("bob", USERS["bob"])
    yield client
    await client.close()


@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists(), "needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()
