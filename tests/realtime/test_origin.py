"""The WebSocket origin check (chat/realtime/origin.py) on the real ASGI stack: scheme, host and port."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from tests.ws import session_cookie
from tokenoff_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SITE = "chat.example.com"


@pytest.fixture(autouse=True)
def served_here(settings):
    settings.ALLOWED_HOSTS = [SITE, "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = []


async def handshake(user, host: str | None, origin: str | None, *extra: tuple[bytes, bytes]) -> bool:
    """Whether the socket opens, with that Host and Origin (None: the header is left out)."""
    headers = [(b"cookie", f"sessionid={await session_cookie(user)}".encode()), *extra]
    if host is not None:
        headers.append((b"host", host.encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    socket = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    opened, _ = await socket.connect()
    if opened:
        await socket.disconnect()
    return opened


@pytest.mark.parametrize(
    ("host", "origin", "opens"),
    [
        (SITE, f"http://{SITE}", True),
        (SITE, f"http://{SITE}:80", True),
        ("127.0.0.1:8000", "http://127.0.0.1:8000", True),
        (SITE, "http://evil:8000", False),
        (SITE, f"https://{SITE}", False),  # the page was served over http
        (SITE, f"http://{SITE}:8000", False),
        ("127.0.0.1:8000", "http://127.0.0.1:8001", False),
        ("127.0.0.1:8000", "https://127.0.0.1:8000", False),
        ("127.0.0.1:8000", "http://127.0.0.1", False),
        (SITE, f"http://{SITE}.evil.example", False),
        (SITE, None, False),
        (SITE, "null", False),
        (SITE, f"ftp://{SITE}", False),
    ],
)
async def test_only_the_sites_own_scheme_host_and_port_open_a_socket(alice, fake, host, origin, opens):
    assert await handshake(alice, host, origin) is opens


async def test_a_host_the_site_does_not_serve_is_no_origin_of_its_own(alice, fake):
    # DNS rebinding: evil.example resolves to the site, so the browser sends Host: evil.example.
    assert not await handshake(alice, "evil.example", "http://evil.example")


async def test_behind_the_https_proxy_the_forwarded_scheme_counts(alice, fake, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    https = (b"x-forwarded-proto", b"https")
    assert await handshake(alice, SITE, f"https://{SITE}", https)
    assert not await handshake(alice, SITE, f"http://{SITE}", https)
    assert not await handshake(alice, SITE, f"https://{SITE}", (b"x-forwarded-proto", b"http"))


async def test_the_forwarded_scheme_is_ignored_unless_https_is_on(alice, fake, settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    assert not await handshake(alice, SITE, f"https://{SITE}", (b"x-forwarded-proto", b"https"))


async def test_a_trusted_origin_opens_a_socket_with_its_own_scheme_and_port_only(alice, fake, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.org", "https://*.example.net"]
    assert await handshake(alice, SITE, "https://app.example.org")
    assert await handshake(alice, SITE, "https://app.example.org:443")
    assert await handshake(alice, SITE, "https://team.example.net")
    assert not await handshake(alice, SITE, "http://app.example.org")
    assert not await handshake(alice, SITE, "https://app.example.org:8443")
    assert not await handshake(alice, SITE, "https://other.example.org")
    assert not await handshake(alice, SITE, "https://example.net.evil.example")


async def test_two_origin_headers_are_refused(alice, fake):
    assert not await handshake(alice, SITE, f"http://{SITE}", (b"origin", b"http://evil:8000"))
