"""Share links on two daphne processes (one PostgreSQL): a revoked link is a 404 on both at once."""

from __future__ import annotations

import pytest
from yarl import URL

from tests.e2e.client import SiteClient
from tests.e2e.live import LiveSite

pytestmark = pytest.mark.services
PASSWORDS = {"dana": "dana-live-password-1", "eve": "eve-live-password-1"}


@pytest.fixture
async def two_processes(postgres_and_redis, fake_server, tmp_path):
    database_url, redis_url = postgres_and_redis
    site = LiveSite(tmp_path, fake_server.base_url, database_url=database_url, redis_url=redis_url)
    for name, password in PASSWORDS.items():
        site.create_user(name, password)
    urls = [site.start(), site.start()]
    clients = {}
    for name, password in PASSWORDS.items():
        for index, url in enumerate(urls):
            client = SiteClient(url)
            await client.log_in(name, password)
            clients[name, index] = client
    yield site, clients
    for client in clients.values():
        await client.close()
    site.stop()


async def post(client: SiteClient, path: str) -> int:
    token = client.session.cookie_jar.filter_cookies(URL(client.base_url))["csrftoken"].value
    async with client.session.post(f"{client.base_url}{path}", headers={"X-CSRFToken": token}) as response:
        return response.status


async def test_a_revoked_link_is_a_404_on_both_processes_at_once(two_processes):
    site, clients = two_processes
    made = site.shell(
        "from django.contrib.auth.models import User\n"
        "dana = User.objects.get(username='dana')\n"
        "c = Conversation.objects.create(owner=dana, title='Shared plan', model='m')\n"
        "Message.objects.create(conversation=c, role='user', content='A question to share')\n"
        "link = ShareLink.share(c.owner, c, include_attachments=False, expires=None)\n"
        "print(c.pk, link.url)"
    )
    conversation, url = made.strip().splitlines()[-1].split()
    for index in (0, 1):
        status, body = await clients["eve", index].get(url)
        assert status == 200 and "A question to share" in body
    assert await post(clients["dana", 0], f"/c/{conversation}/share/revoke/") == 200
    # Read from the database on every request, no per-process cache: the other process knows at once.
    assert [(await clients["eve", index].get(url))[0] for index in (0, 1)] == [404, 404]
