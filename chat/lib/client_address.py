"""The client's address, for log-in throttling and anything else that must not be spoofed."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address daphne put in the ASGI scope (REMOTE_ADDR), never a header the client wrote."""
    # Alone, daphne puts the peer there. Behind deploy/'s nginx it is started with
    # `--proxy-headers --proxy-headers-host X-Real-IP` and puts the address nginx wrote over whatever
    # the client sent; X-Forwarded-For is left alone on purpose: its first hops are the client's own.
    return request.META.get("REMOTE_ADDR")
