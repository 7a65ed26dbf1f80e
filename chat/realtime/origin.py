"""The WebSocket handshake's origin check: scheme, host and port, as Django's CSRF check compares them."""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """(scheme, host, port) of an http(s) origin, the default port filled in; None when it is not one."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def header(scope: dict, name: bytes) -> str | None:
    """One request header of the scope; None when it is missing or sent more than once."""
    values = [value for key, value in scope.get("headers", []) if key.lower() == name]
    return values[0].decode("latin1") if len(values) == 1 else None


def site_scheme(scope: dict) -> str:
    """http or https, as Django's request.scheme decides it (the proxy's header when HTTPS is on)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = header(scope, name)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in ("https", "wss") else "http"


def site_origin(scope: dict) -> Origin | None:
    """The origin the browser was talking to: the Host header, if ALLOWED_HOSTS allows it, and the scheme."""
    host = header(scope, b"host")
    if not host:
        return None
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    # A host the site does not serve (DNS rebinding) is no origin of ours, whatever the Origin says.
    if not domain or not validate_host(domain, allowed):
        return None
    return parse_origin(f"{site_scheme(scope)}://{host}")


def trusted(origin: Origin) -> bool:
    """Listed in DJANGO_CSRF_TRUSTED_ORIGINS (a `*.` host covers its subdomains, as for Django's CSRF)."""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        pattern = parse_origin(entry.replace("://*.", "://", 1))
        if pattern == origin or (
            wildcard
            and pattern is not None
            and (pattern[0], pattern[2]) == (scheme, port)
            and is_same_domain(host, "." + pattern[1])
        ):
            return True
    return False


def allowed(scope: dict) -> bool:
    origin = parse_origin(header(scope, b"origin") or "")
    return origin is not None and (origin == site_origin(scope) or trusted(origin))


class SameOriginValidator:
    """Refuses a WebSocket handshake from any origin but the site's own and the trusted ones."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
