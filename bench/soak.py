"""The soak: C sockets streaming replies back to back for minutes on N processes behind nginx, with the
servers' memory sampled as it goes and every reply's saved text checked against the upstream's.

    python -m bench.soak --streams 1000 --minutes 10 --cluster 2 --database-url postgres://…/empty_db
    python -m bench.soak --streams 20 --minutes 0.3 --cluster 2 --database-url postgres://…/empty_db

One member a socket (each member's sends stay under TOKENOFF_SENDS_PER_MINUTE: a reply takes 5 s);
each socket sends again as soon as its reply is done (and, in a new conversation, titled). The
fake's text is known from the message (`[fake:chunks=N]`: "word1 word2 …"), so every reply's saved
text is compared with it; one socket in --probe-every asks for `[fake:clock]` pieces instead (their
text is their send time: chunk lag), and their saved text is compared with what the socket received.
Exits 1 on any error or any reply lost (saved text not the upstream's). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import resource
import sys
import tempfile
import time
from array import array
from collections import Counter
from pathlib import Path

import aiohttp
import orjson
import psutil

from bench import cluster, data
from bench.receivers import message
from bench.relay import server_env
from bench.report import percentile
from bench.server import Others
from bench.sockets import REPLY_TIMEOUT, SiteRound, _next_frame, _title, open_sockets
from bench.upstream import Fake

MiB = 2**20


def soak_message(chunks: int, delay: float) -> str:
    """The user message whose reply is `chunks` known pieces, `delay` seconds apart."""
    return f"[fake:chunks={chunks}] [fake:delay={delay}] soak"


@functools.cache
def upstream_text(chunks: int) -> str:
    """What the fake streams for soak_message (chat/demo/server.py: `[fake:chunks=N]`)."""
    return " ".join(f"word{i}" for i in range(1, chunks + 1))


class Seen(SiteRound):
    """What every socket saw over the soak; lag and TTFT in compact arrays (a million chunks)."""

    def __init__(self) -> None:
        super().__init__()
        self.ttft = array("d")
        self.lag = array("d")
        self.replies = 0
        self.probes = 0
        self.saved: list[tuple[int, str]] = []  # (message id, the text the upstream sent)


async def one_reply(ws, conversation: int | None, probe: bool, args, seen: Seen) -> bool:
    """One send and its reply (and title); False when the socket cannot go on (an error is noted)."""
    delay = 1 / args.rate
    text = message(args.chunks, delay) if probe else soak_message(args.chunks, delay)
    started: float | None = time.time()
    send = {"type": "send", "id": "s", "conversation": conversation, "content": text}
    await ws.send_str(orjson.dumps(send).decode())
    pieces: list[str] = []
    while (frame := await _next_frame(ws, seen, REPLY_TIMEOUT)) is not None:
        kind = frame["type"]
        if kind == "delta":
            now = time.time()
            if started is not None:
                seen.ttft.append(now - started)
                started = None
            pieces.append(frame["content"])
            if probe:
                seen.lag.extend(now - float(stamp) for stamp in frame["content"].split())
        elif kind == "error":
            seen.errors.append(frame["code"])
            return False
        elif kind == "done":
            return _done(frame, "".join(pieces), probe, args, seen) and (
                conversation is not None or await _titled(ws, seen)
            )
    return False


def _done(frame: dict, received: str, probe: bool, args, seen: Seen) -> bool:
    if frame["finish_reason"] != "stop":
        seen.errors.append(f"finish_reason {frame['finish_reason']}")
        return False
    expected = received if probe else upstream_text(args.chunks)
    if probe and len(received.split()) != args.chunks:
        seen.errors.append(f"{len(received.split())} of {args.chunks} chunks")
    elif received != expected:
        seen.errors.append("the socket's text is not the upstream's")
    seen.replies += 1
    seen.probes += probe
    seen.chunks += args.chunks
    seen.saved.append((frame["message"], expected))
    return True


async def _titled(ws, seen: Seen) -> bool:
    titles = seen.titles
    await _title(ws, seen)
    return seen.titles > titles


async def stream(ws, index: int, conversation: int | None, args, until: float, seen: Seen) -> None:
    """Replies back to back on one socket until the soak's end (the reply in flight then finishes)."""
    await asyncio.sleep(index * args.ramp / args.streams)
    probe = index % args.probe_every == 0
    try:
        while time.monotonic() < until and await one_reply(ws, conversation, probe, args, seen):
            pass
    except (aiohttp.ClientError, ConnectionError, ValueError) as exc:  # ValueError: a probe's piece
        seen.errors.append(f"socket {index}: {exc!r}"[:120])


async def soak(site: cluster.Cluster, fake: Fake, bench: data.BenchData, args) -> dict:
    """The soak itself; samples every server's RSS every --sample seconds until every socket is done."""
    seen, samples = Seen(), []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = await open_sockets(session, site.base_url, bench.stream_cookies[: args.streams])
        others = Others([psutil.Process(), *site.processes(), psutil.Process(fake.process.pid)])
        services = cluster.CpuMeter(site.services())
        client = cluster.CpuMeter([psutil.Process(), psutil.Process(fake.process.pid)])
        began, cpu, proxy = time.monotonic(), site.cpu(), site.nginx_cpu()
        until = began + args.minutes * 60
        conversations = [
            None if args.workload == "new" else bench.stream_conversations[i] for i in range(args.streams)
        ]
        work = asyncio.gather(
            *(stream(ws, i, conversations[i], args, until, seen) for i, ws in enumerate(sockets))
        )
        while not work.done():
            samples.append((time.monotonic() - began, site.rss_each()))
            await asyncio.wait([work], timeout=args.sample)
        await work
        wall = time.monotonic() - began
        figures = {"wall": wall, "cpu": site.cpu() - cpu, "nginx_cpu": site.nginx_cpu() - proxy}
        figures["services_cpu"], figures["client_cpu"] = services.used(), client.used()
        samples.append((wall, site.rss_each()))
        figures["others"] = others.cores()
        for ws in sockets:
            await ws.close()
    return {"seen": seen, "samples": samples, **figures}


def lost_replies(saved: list[tuple[int, str]]) -> list[int]:
    """The replies whose saved text (or row) is not what the upstream sent."""
    from chat.models import Message

    lost = []
    for start in range(0, len(saved), 5000):
        batch = dict(saved[start : start + 5000])
        stored = dict(Message.objects.filter(pk__in=batch).values_list("pk", "content"))
        lost += [pk for pk, text in batch.items() if stored.get(pk) != text]
    return lost


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return float("nan")
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points) or 1e-9
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def _ms(values, q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}"


def summary(result: dict, lost: list[int], args, label: str) -> str:
    seen: Seen = result["seen"]
    samples, wall = result["samples"], result["wall"]
    warm = [s for s in samples if s[0] >= args.warmup] or samples[-1:]
    lines = [
        f"soak: {args.streams} streams on {label}, {wall / 60:.1f} minutes ({args.workload} conversations, "
        f"{args.chunks} chunks at {args.rate:g}/s, warm-up {args.warmup:.0f} s)",
        f"replies: {seen.replies} ({seen.replies / wall * 60:.0f} a minute, {seen.probes} clock probes), "
        f"errors: {len(seen.errors)}, lost: {len(lost)} "
        f"(saved text not the upstream's, of {len(seen.saved)} checked)",
        f"TTFT p50 / p99: {_ms(seen.ttft, 0.5)} / {_ms(seen.ttft, 0.99)} ms; chunk lag p50 / p99: "
        f"{_ms(seen.lag, 0.5)} / {_ms(seen.lag, 0.99)} ms (probes' {len(seen.lag)} chunks)",
        f"CPU (cores): servers {result['cpu'] / wall:.2f}, nginx {result['nginx_cpu'] / wall:.2f}, "
        f"PostgreSQL and Redis {result['services_cpu'] / wall:.2f}, "
        f"this client and the fake {result['client_cpu'] / wall:.2f}, other work {result['others']:.2f}; "
        f"servers' CPU per chunk "
        f"{result['cpu'] / max(seen.chunks, 1) * 1e6:.0f} µs",
        "RSS (MiB)    warm-up end      end    peak   slope after warm-up (MiB/min)",
    ]
    for index in range(len(samples[0][1])):
        first, last = warm[0][1][index] / MiB, samples[-1][1][index] / MiB
        peak = max(s[1][index] for s in samples) / MiB
        per_minute = slope([(t, rss[index] / MiB) for t, rss in warm])
        lines.append(f"process {index}  {first:11.1f} {last:8.1f} {peak:7.1f}   {per_minute:+.2f}")
    if seen.errors:
        lines.append("errors: " + ", ".join(f"{n} x {e}" for e, n in Counter(seen.errors).most_common(5)))
    if lost:
        lines.append(f"lost replies (message ids): {lost[:10]}")
    logged: Counter = result["log_lines"]
    lines.append(f"server logs: {sum(logged.values())} ERROR and WARNING lines")
    lines += [f"  {n} x {line}" for line, n in logged.most_common(4)]
    return "\n".join(lines)


def run(args) -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.warmup = min(60.0, args.minutes * 60 / 4) if args.warmup is None else args.warmup
    args.ramp = min(args.ramp, args.minutes * 60 / 4)
    fake = Fake(args.workdir / "fake.log")
    try:
        env = cluster.cluster_env(server_env(args.database_url, fake, Path("")), args.redis_url)
        env.pop("BENCH_WRITE_LOG")
        data.setup(env)
        began = time.monotonic()
        bench = data.build(args.streams, history=0)
        print(f"database built in {time.monotonic() - began:.0f} s", file=sys.stderr)
        site = cluster.Cluster(args.server, args.cluster, env, args.workdir / "cluster")
        try:
            result = _run_loop(soak(site, fake, bench, args))
        finally:
            site.stop()
            cluster.delete_redis_keys(env)
        result["log_lines"] = site.log_lines()
    finally:
        fake.stop()
    lost = lost_replies(result["seen"].saved)
    label = f"{args.server} x{args.cluster} + nginx"
    print(summary(result, lost, args, label))
    if args.json:
        seen = result["seen"]
        figures = {k: v for k, v in result.items() if k not in ("seen", "log_lines")}
        figures |= {"replies": seen.replies, "errors": seen.errors, "lost": lost}
        figures |= {"ttft": list(seen.ttft), "lag": list(seen.lag)}
        args.json.write_bytes(orjson.dumps(figures))
    return 1 if result["seen"].errors or lost or not result["seen"].replies else 0


def _run_loop(coroutine):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)  # the client reads every socket's frames: its own CPU is not the site's


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000, help="sockets streaming at once (C)")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--cluster", type=int, default=2, help="server processes behind nginx")
    parser.add_argument("--server", default="daphne", help="daphne or uvicorn (bench/server.py)")
    parser.add_argument("--redis-url", default=cluster.REDIS_URL)
    parser.add_argument("--workload", choices=("new", "continue"), default="new")
    parser.add_argument("--chunks", type=int, default=100, help="upstream chunks per reply")
    parser.add_argument("--rate", type=float, default=20.0, help="upstream chunks per second")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which the first sends go out")
    parser.add_argument("--probe-every", type=int, default=10, help="one socket in this many times chunks")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--warmup", type=float, help="seconds before RSS counts (default: a quarter, ≤ 60)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tokenoff-soak")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(parser().parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
