"""Clients that read the fake upstream's streams straight, without the site, in a process of their own.

Run by bench/relay.py as `python -m bench.receivers KIND BASE_URL C N DELAY RAMP`; prints one JSON
object: CPU seconds this process spent over the streams, chunks read, time to first token and the
lag of every chunk (receive time minus the send time the fake wrote into it).

- `floor`: a bare aiohttp client that reads the lines and parses the JSON, nothing more.
- `sdk`: the openai SDK as an application would use it: typed chunks, on its aiohttp transport.
- `sdk-httpx`: the same on the SDK's default transport.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time

import aiohttp
import orjson

MODEL = "gpt-4.1-mini"
API_KEY = "sk-bench-direct-0000"


def message(chunks: int, delay: float) -> str:
    """The user message that makes the fake stream `chunks` clock pieces, `delay` seconds apart."""
    return f"[fake:chunks={chunks}] [fake:delay={delay}] [fake:clock] benchmark"


def request_body(chunks: int, delay: float) -> dict:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": message(chunks, delay)}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


class Record:
    """What one run of streams saw."""

    def __init__(self) -> None:
        self.ttft: list[float] = []
        self.lag: list[float] = []
        self.chunks = 0
        self.errors: list[str] = []

    def piece(self, text: str, started: float | None) -> float | None:
        """Account for one piece of text; returns None once the first token has been timed."""
        now = time.time()
        if started is not None:
            self.ttft.append(now - started)
        for stamp in text.split():
            self.lag.append(now - float(stamp))
            self.chunks += 1
        return None


async def floor_stream(session: aiohttp.ClientSession, url: str, body: dict, record: Record) -> None:
    started: float | None = time.time()
    async with session.post(url, json=body, headers={"Authorization": f"Bearer {API_KEY}"}) as response:
        response.raise_for_status()
        async for line in response.content:
            if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                continue
            chunk = orjson.loads(line[6:])
            for choice in chunk.get("choices") or ():
                text = (choice.get("delta") or {}).get("content")
                if text:
                    started = record.piece(text, started)


def sdk_client(base_url: str, transport: str):
    import openai

    http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else None
    return openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY, max_retries=0, http_client=http_client)


async def sdk_stream(client, body: dict, record: Record) -> None:
    started: float | None = time.time()
    stream = await client.chat.completions.create(**body)
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                started = record.piece(choice.delta.content, started)


async def run(kind: str, base_url: str, streams: int, chunks: int, delay: float, ramp: float) -> dict:
    record = Record()
    body = request_body(chunks, delay)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    client = sdk_client(base_url, "httpx" if kind == "sdk-httpx" else "aiohttp") if kind != "floor" else None

    async def one(index: int, body: dict, record: Record) -> None:
        await asyncio.sleep(index * ramp / streams)
        try:
            if client is None:
                await floor_stream(session, base_url + "/chat/completions", body, record)
            else:
                await sdk_stream(client, body, record)
        except Exception as exc:
            record.errors.append(repr(exc)[:200])

    # One short stream first, untimed (as the site's rounds warm up): a first request's set-up is not
    # what the floor is about.
    await one(0, request_body(1, 0.0), Record())
    cpu = time.process_time()
    wall = time.monotonic()
    await asyncio.gather(*(one(i, body, record) for i in range(streams)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    await session.close()
    if client is not None:
        await client.close()
    return {
        "kind": kind,
        "cpu": cpu,
        "wall": wall,
        "chunks": record.chunks,
        "ttft": record.ttft,
        "lag": record.lag,
        "errors": record.errors,
    }


def main(argv: list[str]) -> None:
    kind, base_url, streams, chunks, delay, ramp = argv
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = asyncio.run(run(kind, base_url, int(streams), int(chunks), float(delay), float(ramp)))
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
