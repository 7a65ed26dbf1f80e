"""The benchmark's browsers: WebSockets that sign in, send and read the protocol's frames, and what they saw.

A socket the site refuses (its per-member cap, an origin, a lost session) stops the run: Refused, with
the HTTP status, rather than figures measured on fewer streams than asked for.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson

REPLY_TIMEOUT = 60.0  # seconds a socket waits for its next frame before the reply counts as an error
TITLE_TIMEOUT = 30.0  # seconds a new conversation waits for its title after `done`


class Refused(RuntimeError):
    """The site refused a socket's handshake."""


class SiteRound:
    """What C sockets saw of one round of replies."""

    def __init__(self) -> None:
        self.ttft: list[float] = []
        self.lag: list[float] = []
        self.chunks = 0
        self.frames = 0
        self.titles = 0
        self.errors: list[str] = []


async def open_sockets(session: aiohttp.ClientSession, base_url: str, cookies: list[str]) -> list:
    """One socket a cookie (the session of the member it belongs to), in that order."""
    url = base_url.replace("http", "ws", 1) + "/ws/chat/"

    async def one(index: int, cookie: str):
        try:
            return await session.ws_connect(
                url,
                origin=base_url,
                headers={"Cookie": f"sessionid={cookie}"},
                autoping=True,
                max_msg_size=0,
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise Refused(
                f"the site refused socket {index + 1} of {len(cookies)} with HTTP {exc.status} "
                f"({cookies.count(cookie)} of them for its member)"
            ) from exc

    sockets: list = []
    # A few at a time, as browsers would arrive; the handshake is not what is measured.
    for start in range(0, len(cookies), 50):
        batch = range(start, min(len(cookies), start + 50))
        opened = await asyncio.gather(*(one(i, cookies[i]) for i in batch), return_exceptions=True)
        sockets += [ws for ws in opened if not isinstance(ws, BaseException)]
        failure = next((ws for ws in opened if isinstance(ws, BaseException)), None)
        if failure is not None:
            for ws in sockets:
                await ws.close()
            raise failure
    return sockets


async def _next_frame(ws, seen: SiteRound, timeout: float) -> dict | None:
    """The next frame, or None (and an error noted) when the socket closed or stayed silent."""
    try:
        msg = await ws.receive(timeout=timeout)
    except TimeoutError:
        seen.errors.append(f"no frame within {timeout:.0f} s")
        return None
    if msg.type != aiohttp.WSMsgType.TEXT:
        seen.errors.append(f"socket closed: {msg.type.name}")
        return None
    seen.frames += 1
    return orjson.loads(msg.data)


async def one_reply(
    ws, conversation: int | None, text: str, chunks: int, offset: float, seen: SiteRound
) -> None:
    """One send (into `conversation`, or a new one when None) and its reply, to `done` (and the title)."""
    await asyncio.sleep(offset)
    started: float | None = time.time()
    send = {"type": "send", "id": "b", "conversation": conversation, "content": text}
    await ws.send_str(orjson.dumps(send).decode())
    received = 0
    while (frame := await _next_frame(ws, seen, REPLY_TIMEOUT)) is not None:
        now = time.time()
        kind = frame["type"]
        if kind == "delta":
            if started is not None:
                seen.ttft.append(now - started)
                started = None
            for stamp in frame["content"].split():
                seen.lag.append(now - float(stamp))
                received += 1
        elif kind == "error":
            seen.errors.append(frame["code"])
            return
        elif kind == "done":
            if frame["finish_reason"] != "stop":
                seen.errors.append(f"finish_reason {frame['finish_reason']}")
            if received != chunks:
                seen.errors.append(f"{received} of {chunks} chunks")
            seen.chunks += received
            break
    else:
        return
    if conversation is None:
        await _title(ws, seen)


async def _title(ws, seen: SiteRound) -> None:
    """A new conversation's title (a `conversation` frame) follows its first reply."""
    while (frame := await _next_frame(ws, seen, TITLE_TIMEOUT)) is not None:
        if frame["type"] == "conversation":
            seen.titles += 1
            return
        if frame["type"] == "error":
            seen.errors.append(f"title: {frame['code']}")
            return


async def replies(
    sockets: list, conversations: list[int | None], text: str, chunks: int, ramp: float
) -> SiteRound:
    """One reply on each socket, the i-th sent at i * ramp / C seconds (all at once with ramp 0)."""
    seen = SiteRound()
    count = len(sockets)
    await asyncio.gather(
        *(
            one_reply(ws, conversations[i], text, chunks, i * ramp / count, seen)
            for i, ws in enumerate(sockets)
        )
    )
    return seen
