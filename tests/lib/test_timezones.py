"""Dates in the reader's zone: the `tz` cookie the browser sets, checked and activated per request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from chat.lib.timezones import TimezoneMiddleware
from chat.models import ApiKey

NOON_UTC = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.UTC)


def zone_seen_with(cookie: str | None) -> str:
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES["tz"] = cookie
    seen = []
    TimezoneMiddleware(lambda r: seen.append(timezone.get_current_timezone_name()) or HttpResponse())(request)
    return seen[0]


def test_a_valid_zone_is_activated():
    assert zone_seen_with("Asia/Shanghai") == "Asia/Shanghai"


@pytest.mark.parametrize("cookie", [None, "", "Mars/Olympus", "../../etc/passwd", "America", "x" * 500])
def test_a_missing_or_bad_zone_leaves_utc(cookie):
    assert zone_seen_with(cookie) == "UTC"


def test_a_zone_does_not_leak_into_the_next_request():
    zone_seen_with("Asia/Shanghai")
    assert zone_seen_with(None) == "UTC"


@pytest.mark.django_db
def test_the_settings_page_shows_dates_in_the_cookies_zone(client, alice):
    ApiKey.store("sk-alice-own-key-1234", user=alice)
    ApiKey.objects.filter(user=alice).update(created=NOON_UTC)
    client.force_login(alice)
    assert "15 Jan 2024, 12:00" in client.get("/settings/").content.decode()
    client.cookies["tz"] = "Asia/Shanghai"
    assert "15 Jan 2024, 20:00" in client.get("/settings/").content.decode()
