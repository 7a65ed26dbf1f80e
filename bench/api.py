"""The API for scripts beside the WebSocket relay: C openai SDK streams through /api/v1/ at once, and in
the same run the floor (a bare client straight at the upstream) and the relay's own round.

    python -m bench.api --streams 100 --repeat 2

Each reply is the relay benchmark's ([fake:chunks=100] [fake:delay=0.05] [fake:clock]: 100 chunks at
20 a second, each piece the time it was written), the sends spread over 2 s; every API stream is a
new conversation of its own member (one token each), so the WebSocket round beside it is the `new`
workload (a new conversation a send, whose title request adds a little CPU that the API spends not).
Added TTFT: the site's percentile from request to first text, less the floor's. Server CPU per chunk:
the server process's CPU over the round divided by the chunks relayed. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import psutil

from bench import data, report, workloads
from bench.receivers import MODEL, Record, message, request_body
from bench.relay import machine, server_env
from bench.rounds import site_round, writes_so_far
from bench.server import Others, Server
from bench.upstream import Fake, direct


def tokens_for(bench: data.BenchData) -> list[str]:
    """One personal token for the owner of each stream conversation, in the same order."""
    from chat.models import ApiToken, Conversation

    owners = dict(Conversation.objects.filter(pk__in=bench.stream_conversations).values_list("pk", "owner"))
    ApiToken.objects.all().delete()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk(set(owners.values()))
    return [ApiToken.issue(users[owners[pk]], "bench")[1] for pk in bench.stream_conversations]


async def api_round(server: Server, fake: Fake, tokens: list[str], write_log: Path, args) -> dict:
    """C SDK streams through the site's /api/v1/, with the server's CPU and writes over them."""
    import openai

    base = f"{server.base_url}/api/v1"
    clients = [openai.AsyncOpenAI(base_url=base, api_key=token, max_retries=0) for token in tokens]
    warm = clients[-5:]  # the warm-up's members are not the streams' (bench/workloads.py)
    streams = clients[: args.streams]
    record = Record()

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def raw(client, text: str, record: Record) -> None:
        """The floor's bare client (bench/receivers.py) against the site's endpoint, with the token."""
        body = {**request_body(args.chunks, 1 / args.rate), "messages": [{"role": "user", "content": text}]}
        headers = {"Authorization": f"Bearer {client.api_key}"}
        started: float | None = time.time()
        async with session.post(f"{base}/chat/completions", json=body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.content:
                if line.startswith(b"data: {"):
                    for choice in orjson.loads(line[6:]).get("choices") or ():
                        if (choice.get("delta") or {}).get("content"):
                            started = record.piece(choice["delta"]["content"], started)

    async def one(index: int, client, text: str, record: Record) -> None:
        await asyncio.sleep(index * args.ramp / max(len(streams), 1))
        if args.client == "raw" and record is not None and text != warm_text:
            try:
                await raw(client, text, record)
            except Exception as exc:
                record.errors.append(repr(exc)[:200])
            return
        started: float | None = time.time()
        try:
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": text}],
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        started = record.piece(choice.delta.content, started)
        except Exception as exc:
            record.errors.append(repr(exc)[:200])

    warm_text = message(5, 0.01)
    await asyncio.gather(*(one(0, client, warm_text, Record()) for client in warm))
    # Every client's first request sets the SDK up (a platform look-up in a thread): not the site's time.
    await asyncio.gather(*(client.models.list() for client in streams))
    await asyncio.sleep(1)
    others = Others([psutil.Process(), server.ps, psutil.Process(fake.process.pid)])
    writes, cpu = writes_so_far(write_log), server.cpu()
    text = message(args.chunks, 1 / args.rate)
    await asyncio.gather(*(one(i, client, text, record) for i, client in enumerate(streams)))
    cpu = server.cpu() - cpu
    writes = writes_so_far(write_log) - writes
    for client in clients:
        await client.close()
    await session.close()
    return {
        "cpu": cpu,
        "chunks": record.chunks,
        "ttft": record.ttft,
        "lag": record.lag,
        "errors": record.errors,
        "writes_per_reply": writes / max(len(streams), 1),
        "others": others.cores(),
    }


def measure(args) -> dict:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    args.workdir.mkdir(parents=True, exist_ok=True)
    write_log = args.workdir / "writes.log"
    write_log.unlink(missing_ok=True)
    fake = Fake(args.workdir / "fake.log")
    kept: dict = {}
    try:
        env = server_env(data.sqlite_url(args.workdir, fresh=True), fake, write_log)
        data.setup({k: v for k, v in env.items() if k != "BENCH_WRITE_LOG"})
        bench = data.build(workloads.members_needed(args.streams, 0), args.history)
        tokens = tokens_for(bench)
        from django.db import connections

        connections.close_all()
        new = workloads.WORKLOADS["new"]
        for _ in range(args.repeat):
            runs = {
                kind: direct(kind, fake, args.streams, args.chunks, 1 / args.rate, args.ramp)
                for kind in ("floor", "sdk")
            }
            for name in ("websocket", "api"):
                server = Server("daphne", env, args.workdir / "daphne.log")
                try:
                    if name == "api":
                        runs[name] = asyncio.run(api_round(server, fake, tokens, write_log, args))
                    else:
                        runs[name] = asyncio.run(
                            site_round(server, fake, bench, write_log, args, args.streams, new)
                        )
                finally:
                    server.stop()
            for name, run in runs.items():
                kept[name] = report.quieter(kept.get(name), run)
            print(f"C={args.streams} round done", file=sys.stderr)
    finally:
        fake.stop()
    return kept


def table(kept: dict, streams: int, client: str) -> str:
    """The two paths; each one's added TTFT against the same kind of client reading straight from the
    upstream (the bare floor for the WebSocket's own client, the SDK for the API's), CPU against the floor."""
    floor = kept["floor"]
    header = [
        "path", "C", "added TTFT p50 / p99 (ms)", "straight", "TTFT p50 / p99 (ms)",
        "chunk lag p50 / p99 (ms)", "server CPU per chunk (µs)", "floor (µs)", "server / floor",
        "DB writes per reply", "errors", "other CPU (cores)",
    ]  # fmt: skip
    rows = []
    api = ("api", "API, openai SDK", "sdk") if client == "sdk" else ("api", "API, bare aiohttp", "floor")
    paths = (("websocket", "WebSocket (`new`)", "floor"), api)
    for name, label, straight in paths:
        run = kept[name]

        def added(q: float, run: dict = run, straight: str = straight) -> str:
            return report.added(run["ttft"], kept[straight]["ttft"], q)

        rows.append(
            [
                label,
                streams,
                f"**{added(0.5)}** / {added(0.99)}",
                f"{straight} {report.p50_p99(kept[straight]['ttft'])}",
                report.p50_p99(run["ttft"]),
                report.p50_p99(run["lag"]),
                report.us(report.per_chunk(run)),
                report.us(report.per_chunk(floor)),
                f"**{report.per_chunk(run) / report.per_chunk(floor):.2f}**",
                f"{run['writes_per_reply']:.1f}",
                len(run["errors"]),
                f"{run['others']:.2f}",
            ]
        )
    return "\n".join(report.markdown(header, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=100, help="concurrent streams (C)")
    parser.add_argument("--chunks", type=int, default=100, help="upstream chunks per reply")
    parser.add_argument("--rate", type=float, default=20.0, help="upstream chunks per second")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which the sends go out")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the least disturbed is reported")
    parser.add_argument(
        "--client", choices=["sdk", "raw"], default="sdk", help="the API's clients: the SDK, or bare aiohttp"
    )
    parser.add_argument("--history", type=int, default=1000, help="conversations behind the database")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tokenoff-bench-api")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    args.profile = None  # site_round's options, as bench.relay passes them
    kept = measure(args)
    print(f"{machine()}\n")
    print(table(kept, args.streams, args.client))
    return 1 if any(run["errors"] for run in kept.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
