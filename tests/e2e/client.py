"""A browser-like client over real HTTP and WebSocket: log in with the form, then talk the protocol."""

from __future__ import annotations

import aiohttp
from yarl import URL


class SiteClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def log_in(self, username: str, password: str) -> None:
        async with self.session.get(f"{self.base_url}/accounts/login/") as response:
            assert response.status == 200
        token = self.session.cookie_jar.filter_cookies(URL(self.base_url))["csrftoken"].value
        async with self.session.post(
            f"{self.base_url}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.base_url}/accounts/login/"},
            allow_redirects=False,
        ) as response:
            assert response.status == 302, await response.text()

    async def socket(self, origin: str | None = None) -> aiohttp.ClientWebSocketResponse:
        ws_url = self.base_url.replace("http", "ws", 1) + "/ws/chat/"
        return await self.session.ws_connect(ws_url, origin=origin or self.base_url, autoping=True)

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(f"{self.base_url}{path}", allow_redirects=False) as response:
            return response.status, await response.text()

    async def close(self) -> None:
        await self.session.close()


async def frames_until(
    ws: aiohttp.ClientWebSocketResponse, frame_type: str, timeout: float = 10.0
) -> list[dict]:
    frames = []
    while True:
        frame = await ws.receive_json(timeout=timeout)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


async def until_checkpointed(client: SiteClient, conversation: int, timeout: float = 15.0) -> str:
    """Wait until a streaming reply's first checkpoint is saved; returns the text saved so far."""
    import asyncio
    import json

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status, body = await client.get(f"/c/{conversation}/export.json")
        if status == 200 and (text := json.loads(body)["messages"][-1]["content"]):
            return text
        await asyncio.sleep(0.2)
    raise AssertionError("no checkpoint was saved")
