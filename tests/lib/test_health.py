"""GET /healthz for load balancers."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

# Both passes: with Redis the layer check is a round trip through it.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.redis]


async def test_healthz_checks_the_database_and_the_channel_layer():
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


async def test_healthz_says_failing_with_503_when_the_channel_layer_is_down(settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens on port 1
        }
    }
    channel_layers.backends.clear()
    try:
        response = await AsyncClient().get("/healthz")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    assert response.json()["channel_layer"] == "failing" and response.json()["database"] == "ok"
    assert "127.0.0.1" not in response.content.decode()
