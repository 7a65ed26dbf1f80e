"""The API against a live daphne (tests/e2e's site), driven by the openai SDK itself."""

from __future__ import annotations

import openai
import pytest

from tests.e2e.conftest import live  # noqa: F401  (the live site fixture, shared with the e2e tests)


def new_token(site, user: str = "alice", name: str = "my script", *extra: str) -> str:
    return site.manage("create_api_token", "--user", user, "--name", name, *extra).strip()


@pytest.fixture(scope="module")
def token(live):  # noqa: F811
    return new_token(live)


@pytest.fixture
async def api(live, token, fake_server):  # noqa: F811
    """An AsyncOpenAI client of the site's /api/v1/ with alice's token (no retries: each status seen once)."""
    fake_server.reset()
    client = openai.AsyncOpenAI(base_url=f"{live.base_url}/api/v1", api_key=token, max_retries=0)
    yield client
    await client.close()
