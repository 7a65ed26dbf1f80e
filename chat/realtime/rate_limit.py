"""Limits on what one user may do: sends per minute (across processes, in the cache), frames per socket."""

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
    try:
        count = cache.incr(key)
    except ValueError:  # gone between the two (evicted, flushed): this send starts the count again
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count <= limit:
        return 0
    return max(1, int((window + 1) * WINDOW_SECONDS - time.time()) + 1)


def clock() -> float:
    """The time frame buckets read (tests put a clock of their own here)."""
    return time.monotonic()


class FrameBucket:
    """One socket's frame allowance, a token bucket: `rate` frames a second, `burst` at once."""

    def __init__(self, rate: float, burst: int, now=None) -> None:
        self.rate = rate
        self.burst = burst
        self.now = now or clock
        self.tokens = float(burst)
        self.stamp = self.now()

    def take(self) -> float:
        """Take one frame's token: 0 when the frame may go on, else the seconds until one is back."""
        if not self.rate:
            return 0.0
        now = self.now()
        self.tokens = min(float(self.burst), self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def frame_bucket() -> FrameBucket:
    """A new socket's bucket, from the settings; it reads `clock` as it is when the socket opens."""
    return FrameBucket(settings.TOKENOFF_FRAMES_PER_SECOND, settings.TOKENOFF_FRAME_BURST, clock)
