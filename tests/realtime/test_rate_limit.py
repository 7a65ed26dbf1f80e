"""The sends-per-minute count in the cache."""

from __future__ import annotations

from django.core.cache import cache

from chat.realtime import rate_limit


def test_sends_over_the_limit_wait_for_the_next_minute(settings):
    settings.TOKENOFF_SENDS_PER_MINUTE = 2
    cache.clear()
    assert rate_limit.seconds_until_send_allowed(7) == 0
    assert rate_limit.seconds_until_send_allowed(7) == 0
    assert 1 <= rate_limit.seconds_until_send_allowed(7) <= 61
    assert rate_limit.seconds_until_send_allowed(8) == 0  # another member's count


def test_a_count_that_vanishes_between_add_and_incr_starts_again(settings, monkeypatch):
    settings.TOKENOFF_SENDS_PER_MINUTE = 2
    cache.clear()
    # The key evicted (or flushed) right after add(): Django's incr() then raises ValueError.
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: True)
    assert rate_limit.seconds_until_send_allowed(9) == 0
    monkeypatch.undo()
    assert rate_limit.seconds_until_send_allowed(9) == 0  # the count went on from 1
    assert rate_limit.seconds_until_send_allowed(9) > 0
