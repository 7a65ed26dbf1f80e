"""Fixtures for the end-to-end tests: a live daphne on its own database, users with keys."""

from __future__ import annotations

import pytest

from tests.conftest import CANARY_KEY
from tests.e2e.client import SiteClient
from tests.e2e.live import LiveSite

USERS = {"alice": "alice-live-password-1", "bob": "bob-live-password-1"}


@pytest.fixture(scope="module")
def live(fake_server, tmp_path_factory):
    site = LiveSite(tmp_path_factory.mktemp("live"), fake_server.base_url)
    site.create_user("alice", USERS["alice"], key=CANARY_KEY)
    site.create_user("bob", USERS["bob"], key="sk-bob-live-key-9999")
    site.base_url = site.start()
    yield site
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
