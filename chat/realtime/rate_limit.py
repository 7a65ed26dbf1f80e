"""Limits on what one user may do: sends per minute (shared across processes through the cache)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def seconds_until_send_allowed(user_id: int) -> int:
    """Count one send for this user; 0 when it is allowed, else how long until the window ends."""
    limit = settings.TOKENOFF_SENDS_PER_MINUTE
    if not limit:
        return 0
    window = int(time.time() // WINDOW_SECONDS)
    key = f"chat:sends:{user_id}:{window}"
    # add() then incr() is atomic on Redis and on the local-memory cache alike.
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    count = cache.incr(key)
    if count <= limit:
        return 0
    return max(1, int((window + 1) * WINDOW_SECONDS - time.time()) + 1)
