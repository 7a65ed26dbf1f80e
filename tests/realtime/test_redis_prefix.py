"""Sites and test runs sharing one Redis: each has its own key prefix, and never sees the other's frames."""

from __future__ import annotations

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from tests.conftest import REDIS_URL, reachable, require
from tests.test_settings import PRODUCTION, settings_with

ON_REDIS = {"REDIS_URL": "redis://127.0.0.1:6379/0", **PRODUCTION}


def test_the_prefix_is_derived_from_the_database_name_for_the_layer_and_the_cache():
    shown = settings_with(**ON_REDIS, DATABASE_URL="postgres://tokenoff@127.0.0.1:5432/chat_one")
    assert shown["prefix"] == "tokenoff-chat_one"
    assert shown["layer_config"]["prefix"] == shown["cache"]["KEY_PREFIX"] == "tokenoff-chat_one"
    shown = settings_with(**ON_REDIS, DATABASE_URL="sqlite:////srv/two/team-two.sqlite3")
    assert shown["layer_config"]["prefix"] == shown["cache"]["KEY_PREFIX"] == "tokenoff-team-two"
    assert settings_with(**PRODUCTION)["prefix"] == "tokenoff-db"  # the quickstart's db.sqlite3


def test_tokenoff_redis_prefix_sets_it():
    shown = settings_with(**ON_REDIS, TOKENOFF_REDIS_PREFIX="site-a")
    assert shown["layer_config"]["prefix"] == shown["cache"]["KEY_PREFIX"] == "site-a"


def test_each_test_run_has_its_own_prefix():
    first, second = (settings_with("tests.settings")["prefix"] for _ in range(2))
    assert first != second and first.startswith("tokenoff-test-") and second.startswith("tokenoff-test-")
    assert settings.TOKENOFF_REDIS_PREFIX.startswith("tokenoff-test-")


@pytest.fixture
def two_sites_on_one_redis():
    """The channel layers of two sites on two databases, as their settings build them, on one Redis."""
    require(reachable("127.0.0.1", 6379), "needs Redis on 127.0.0.1:6379")
    address = settings.REDIS_URL or REDIS_URL
    layers = []
    for database in ("site_a", "site_b"):
        # Named for this run too, so that two runs of this test never meet either.
        url = f"postgres://tokenoff@127.0.0.1:5432/{database}_{settings.TOKENOFF_REDIS_PREFIX}"
        config = settings_with(**ON_REDIS, DATABASE_URL=url)["layer_config"]
        layers.append(RedisChannelLayer(**{**config, "hosts": [address]}))
    return layers


@pytest.mark.services
async def test_two_sites_on_one_redis_never_see_each_others_group_messages(two_sites_on_one_redis):
    a, b = two_sites_on_one_redis
    assert a.prefix != b.prefix
    try:
        a_channel, b_channel = await a.new_channel(), await b.new_channel()
        # The same group name on both sites: a conversation with the same id in each database.
        await a.group_add("conversation-1", a_channel)
        await b.group_add("conversation-1", b_channel)
        await a.group_send("conversation-1", {"type": "chat.frame", "text": "from site a"})
        await b.group_send("conversation-1", {"type": "chat.frame", "text": "from site b"})
        # Each site's first message is its own: the other's would have arrived first.
        assert (await a.receive(a_channel))["text"] == "from site a"
        assert (await b.receive(b_channel))["text"] == "from site b"
        await a.group_discard("conversation-1", a_channel)
        await b.group_discard("conversation-1", b_channel)
    finally:
        await a.close_pools()
        await b.close_pools()
