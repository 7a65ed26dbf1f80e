"""GET /healthz: is this process able to serve chat? For load balancers."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

log = logging.getLogger(__name__)
LAYER_TIMEOUT = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _channel_layer() -> None:
    """A message to ourselves through the layer: Redis answers, or the in-memory layer works."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.ping"})
    await asyncio.wait_for(layer.receive(channel), LAYER_TIMEOUT)


async def _outcome(name: str, check) -> str:
    try:
        await check
    except Exception as exc:
        # The reason goes to the log, not to whoever asks: it may name hosts and users.
        log.warning("health check %s failed: %s", name, type(exc).__name__)
        return "failing"
    return "ok"


async def healthz(request: HttpRequest) -> JsonResponse:
    results = {
        "database": await _outcome("database", sync_to_async(_database)()),
        "channel_layer": await _outcome("channel_layer", _channel_layer()),
    }
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse({"status": "ok" if healthy else "failing", **results}, status=200 if healthy else 503)
