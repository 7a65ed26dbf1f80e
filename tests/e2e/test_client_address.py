"""The client's address as the deployed nginx and daphne see it: log-in throttling a header cannot fool."""

from __future__ import annotations

import json
import shutil

import aiohttp
import pytest
from yarl import URL

from tests.conftest import require
from tests.e2e.client import SiteClient
from tests.e2e.live import DEPLOYED, LiveSite, start_nginx

# Pass 2 only, with the other nginx tests: nginx in front of a daphne, the same in either pass.
pytestmark = pytest.mark.services
PASSWORD = "address-live-password-1"
USERS = ("erin", "fred", "gwen", "hana", "ivan")
# Loopback has every 127.x address: three machines, as far as nginx and daphne can tell.
ATTACKER, VICTIM = "127.0.0.2", "127.0.0.3"
LOCKED = 429
REFUSED = (200, LOCKED)  # a wrong password: the form again, or at the fifth the lockout page


@pytest.fixture(scope="module")
def site(fake_server, tmp_path_factory):
    """One daphne as deployed (deploy/tokenoff-chat@.service's options) behind nginx, one alone."""
    require(shutil.which("nginx") is not None, "needs Debian's nginx (apt-get install nginx-light)")
    tmp = tmp_path_factory.mktemp("address")
    live = LiveSite(tmp, fake_server.base_url)
    live.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User\n"
        f"for name in {USERS!r}: User.objects.create_user(name, password={PASSWORD!r})",
    )
    assert "--proxy-headers" in DEPLOYED.options, (
        "the service file starts the server without the proxy's headers"
    )
    live.start(*DEPLOYED.options, server=DEPLOYED.server)
    live.alone = live.start()  # as quickstart runs it: no proxy, no proxy headers read
    nginx, live.proxied = start_nginx(tmp, live.ports[:1])
    yield live
    nginx.terminate()
    nginx.wait(timeout=5)
    live.stop()


async def log_in(base_url: str, username: str, password: str, source: str, **headers: str) -> int:
    """One log-in through the form from that address, with extra headers; the response's status."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        async with session.get(f"{base_url}/accounts/login/", headers=headers) as response:
            assert response.status == 200
        token = jar.filter_cookies(URL(base_url))["csrftoken"].value
        async with session.post(
            f"{base_url}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={**headers, "Referer": f"{base_url}/accounts/login/"},
            allow_redirects=False,
        ) as response:
            return response.status


def spoofed(number: int, address: str | None = None) -> dict[str, str]:
    """Every header a client might forge its address with: a new address each time, or the given one."""
    fake = address or f"203.0.113.{number}"
    return {"X-Forwarded-For": fake, "X-Real-IP": fake, "Forwarded": f"for={fake}"}


def recorded_addresses(site: LiveSite, username: str) -> list[str]:
    code = (
        "from axes.models import AccessAttempt\n"
        "import json\n"
        f"print(json.dumps(sorted(set(AccessAttempt.objects.filter(username={username!r})"
        ".values_list('ip_address', flat=True)))))"
    )
    return json.loads(site.manage("shell", "-c", code).splitlines()[-1])


async def test_behind_nginx_a_new_forwarded_for_each_time_is_still_locked_out(site):
    for attempt in range(5):
        assert await log_in(site.proxied, "erin", "wrong", ATTACKER, **spoofed(attempt)) in REFUSED
    assert await log_in(site.proxied, "erin", PASSWORD, ATTACKER, **spoofed(99)) == LOCKED
    assert recorded_addresses(site, "erin") == [ATTACKER]
    # Lockout is per username and address: erin herself, elsewhere, still logs in.
    assert await log_in(site.proxied, "erin", PASSWORD, VICTIM) == 302


async def test_behind_nginx_a_spoofed_address_cannot_lock_out_another(site):
    for attempt in range(6):
        await log_in(site.proxied, "fred", "wrong", ATTACKER, **spoofed(attempt, address=VICTIM))
    assert await log_in(site.proxied, "fred", PASSWORD, VICTIM) == 302
    assert recorded_addresses(site, "fred") == [ATTACKER]


async def test_without_a_proxy_the_headers_are_ignored(site):
    for attempt in range(5):
        assert await log_in(site.alone, "gwen", "wrong", ATTACKER, **spoofed(attempt)) in REFUSED
    assert await log_in(site.alone, "gwen", PASSWORD, ATTACKER, **spoofed(99)) == LOCKED
    assert recorded_addresses(site, "gwen") == [ATTACKER]


async def test_without_a_proxy_one_attacker_cannot_lock_a_username_out_for_everyone(site):
    for attempt in range(6):
        await log_in(site.alone, "hana", "wrong", ATTACKER, **spoofed(attempt, address=VICTIM))
    assert await log_in(site.alone, "hana", PASSWORD, ATTACKER) == LOCKED
    assert await log_in(site.alone, "hana", PASSWORD, VICTIM) == 302


async def test_through_nginx_a_socket_opens_from_the_page_and_not_from_another_port(site):
    client = SiteClient(site.proxied)
    try:
        await client.log_in("ivan", PASSWORD)
        socket = await client.socket()
        await socket.close()
        daphne = f"http://127.0.0.1:{site.ports[0]}"  # same host, another port: another origin
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await client.socket(origin=daphne)
    finally:
        await client.close()
