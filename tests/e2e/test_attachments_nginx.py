"""Uploads through the deployed nginx (deploy/nginx-locations.conf): 15 MB passes, 25 MB gets JSON 413."""

from __future__ import annotations

import json
import shutil

import aiohttp
import pytest
from yarl import URL

from tests.attachments import fixtures
from tests.conftest import require
from tests.e2e.client import SiteClient
from tests.e2e.live import DEPLOYED, LiveSite, start_nginx

# Pass 2 only, with the other nginx tests: nginx in front of a daphne, the same in either pass.
pytestmark = pytest.mark.services
PASSWORD = "uploads-live-password-1"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def site(fake_server, tmp_path_factory):
    require(shutil.which("nginx") is not None, "needs Debian's nginx (apt-get install nginx-light)")
    tmp = tmp_path_factory.mktemp("uploads")
    live = LiveSite(tmp, fake_server.base_url)
    live.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User\n"
        f"User.objects.create_user('uma', password={PASSWORD!r})",
    )
    live.start(*DEPLOYED.options, server=DEPLOYED.server)
    nginx, live.proxied = start_nginx(tmp, live.ports[:1])
    yield live
    nginx.terminate()
    nginx.wait(timeout=5)
    live.stop()


def photo_of(size: int) -> bytes:
    """A real 12 MP JPEG padded after its end to size bytes (a payload the re-encoding drops)."""
    photo = fixtures.jpeg_12mp()[1]
    return photo + b"\0" * (size - len(photo))


async def post_file(client: SiteClient, content: bytes) -> tuple[int, str, dict]:
    token = client.session.cookie_jar.filter_cookies(URL(client.base_url))["csrftoken"].value
    form = aiohttp.FormData()
    form.add_field("file", content, filename="big.jpg", content_type="image/jpeg")
    async with client.session.post(
        f"{client.base_url}/api/attachments/",
        data=form,
        headers={"X-CSRFToken": token, "Referer": f"{client.base_url}/"},
    ) as response:
        text = await response.text()
        assert text.startswith("{"), (response.status, text[:300])
        return response.status, response.headers.get("Content-Type", ""), json.loads(text)


async def test_a_15_mb_upload_passes_nginx_and_a_25_mb_one_gets_a_json_413(site):
    client = SiteClient(site.proxied)
    try:
        await client.log_in("uma", PASSWORD)
        status, _type, body = await post_file(client, photo_of(15 * MB))
        assert status == 201, body
        assert (body["kind"], body["width"], body["height"]) == ("image", 1536, 2048) and body["size"] < MB
        status, content_type, body = await post_file(client, photo_of(25 * MB))
        assert (status, content_type) == (413, "application/json")
        assert body["error"]["code"] == "too_large" and "20.0 MB" in body["error"]["message"]
    finally:
        await client.close()


async def test_daphne_alone_refuses_a_25_mb_upload_from_its_declared_length(site):
    client = SiteClient(f"http://127.0.0.1:{site.ports[0]}")
    try:
        await client.log_in("uma", PASSWORD)
        status, content_type, body = await post_file(client, photo_of(25 * MB))
        assert (status, content_type, body["error"]["code"]) == (413, "application/json", "too_large")
    finally:
        await client.close()
