"""Dates in the reader's time zone: the browser reports it in the `tz` cookie (static/chat/timezone.js)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE = "tz"


def zone_named(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone of an IANA name such as Asia/Shanghai, or None for anything else."""
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # ValueError: names like "../etc" that zoneinfo refuses to look up as paths.
        return None


class TimezoneMiddleware:
    """Activate the cookie's zone for the request; a missing or unknown one leaves UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_named(request.COOKIES.get(COOKIE))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return self.get_response(request)
