"""The relay benchmark: the site passing the fake upstream's tokens to C WebSocket clients at once,
beside clients that read the same streams straight from the upstream, in the same run.

    python -m bench.relay --repeat 2           # the whole table, daphne and uvicorn (6 to 7 minutes)
    python -m bench.relay --streams 100 --servers daphne

Everything runs on 127.0.0.1: the fake upstream, the server and the clients, each in a process of
its own; every stream is bounded in chunks and every wait in time. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import psutil

from bench import data
from bench.receivers import message
from bench.server import ROOT, Server, free_port, wait_until_listening

WARMUP_STREAMS = 10
IDLE_SOCKETS_EACH = 10  # a member's open tabs in the idle-socket round; the site allows 20
ENCRYPTION_KEY = "YmVuY2htYXJrLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24="  # the benchmark's own, test-only


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Fake:
    """chat/demo/server.py in a process of its own, so that its CPU is nobody else's."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._log = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chat.demo", "--port", str(self.port), "--delay", "0"],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until_listening(self.port, self.process, f"the fake upstream (see {log})")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._log.close()


class Others:
    """CPU that processes outside the benchmark spent over a window, in cores: the machine is shared."""

    def __init__(self, ours: list[psutil.Process]) -> None:
        self.ours = ours
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float]:
        busy = psutil.cpu_times()
        total = sum(busy) - busy.idle - getattr(busy, "iowait", 0.0)
        mine = 0.0
        for process in self.ours:
            try:
                times = process.cpu_times()
                mine += times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                pass
        return time.monotonic(), total, mine

    def cores(self) -> float:
        wall, total, mine = self._sample()
        return max(0.0, (total - self.start[1]) - (mine - self.start[2])) / max(wall - self.start[0], 1e-9)


def direct(kind: str, fake: Fake, streams: int, chunks: int, delay: float, ramp: float) -> dict:
    """One of bench/receivers.py's clients over the same streams, in its own process."""
    others = Others([psutil.Process(), psutil.Process(fake.process.pid)])
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.receivers",
            kind,
            fake.base_url,
            *map(str, (streams, chunks, delay, ramp)),
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return orjson.loads(output.stdout) | {"others": others.cores()}


# ---------------------------------------------------------------------------------------------
# The site's side: sockets that send and read the protocol's frames.


class SiteRound:
    """What C sockets saw of one round of replies."""

    def __init__(self) -> None:
        self.ttft: list[float] = []
        self.lag: list[float] = []
        self.chunks = 0
        self.frames = 0
        self.errors: list[str] = []


async def open_sockets(
    session: aiohttp.ClientSession, server: Server, cookies: list[str], count: int
) -> list:
    """`count` sockets, the i-th signed in with cookies[i % len(cookies)] (members' own sockets)."""
    url = server.base_url.replace("http", "ws", 1) + "/ws/chat/"
    sockets = []
    # A few at a time, as browsers would arrive; the handshake is not what is measured.
    for start in range(0, count, 50):
        batch = range(start, min(count, start + 50))
        sockets += await asyncio.gather(
            *(
                session.ws_connect(
                    url,
                    origin=server.base_url,
                    headers={"Cookie": f"sessionid={cookies[i % len(cookies)]}"},
                    autoping=True,
                    max_msg_size=0,
                )
                for i in batch
            )
        )
    return sockets


async def one_reply(ws, conversation: int, text: str, chunks: int, offset: float, seen: SiteRound) -> None:
    await asyncio.sleep(offset)
    started: float | None = time.time()
    await ws.send_str(
        orjson.dumps({"type": "send", "id": "b", "conversation": conversation, "content": text}).decode()
    )
    received = 0
    while True:
        msg = await ws.receive(timeout=60)
        if msg.type != aiohttp.WSMsgType.TEXT:
            seen.errors.append(f"socket closed: {msg.type}")
            return
        now = time.time()
        seen.frames += 1
        frame = orjson.loads(msg.data)
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
        elif kind == "done":
            if frame["finish_reason"] != "stop":
                seen.errors.append(f"finish_reason {frame['finish_reason']}")
            if received != chunks:
                seen.errors.append(f"{received} of {chunks} chunks")
            seen.chunks += received
            return


async def replies(
    sockets: list, conversations: list[int], chunks: int, delay: float, ramp: float
) -> SiteRound:
    seen = SiteRound()
    text = message(chunks, delay)
    count = len(sockets)
    await asyncio.gather(
        *(
            one_reply(ws, conversations[i], text, chunks, i * ramp / count, seen)
            for i, ws in enumerate(sockets)
        )
    )
    return seen


def profile(server: Server, folder: Path | None, streams: int) -> subprocess.Popen | None:
    """py-spy sampling the server over the round (its own CPU is not the server's), or None."""
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{server.kind}-{streams}.txt"
    command = [
        str(Path(sys.executable).with_name("py-spy")),
        "record",
        "--pid",
        str(server.process.pid),
        "--format",
        "raw",
        "--output",
        str(output),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def writes_so_far(log: Path) -> int:
    if not log.exists():
        return 0
    with open(log, "rb") as lines:
        return sum(1 for _ in lines)


async def site_round(
    server: Server, fake: Fake, bench: data.BenchData, write_log: Path, args, streams: int
) -> dict:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        warm = await open_sockets(session, server, bench.stream_cookies[-WARMUP_STREAMS:], WARMUP_STREAMS)
        await replies(warm, bench.stream_conversations[-WARMUP_STREAMS:], 5, 0.01, 0.1)
        for ws in warm:
            await ws.close()
        sockets = await open_sockets(session, server, bench.stream_cookies[:streams], streams)
        await asyncio.sleep(1)
        profiler = profile(server, args.profile, streams)
        others = Others([psutil.Process(), server.ps, psutil.Process(fake.process.pid)])
        rss_idle, writes, cpu = server.rss(), writes_so_far(write_log), server.cpu()
        peak = rss_idle
        work = asyncio.ensure_future(
            replies(sockets, bench.stream_conversations, args.chunks, 1 / args.rate, args.ramp)
        )
        while not work.done():
            peak = max(peak, server.rss())
            await asyncio.wait([work], timeout=0.2)
        seen = work.result()
        cpu = server.cpu() - cpu
        writes = writes_so_far(write_log) - writes
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        for ws in sockets:
            await ws.close()
    return {
        "cpu": cpu,
        "chunks": seen.chunks,
        "ttft": seen.ttft,
        "lag": seen.lag,
        "errors": seen.errors,
        "frames_per_reply": seen.frames / streams,
        "writes_per_reply": writes / streams,
        "streaming_socket_bytes": (peak - rss_idle) / streams,
        "others": others.cores(),
    }


async def idle_sockets(server: Server, bench: data.BenchData, count: int) -> float:
    """RSS added per open, idle socket."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        # Spread over the members, IDLE_SOCKETS_EACH a member: within the per-member cap on sockets.
        for ws in await open_sockets(session, server, bench.stream_cookies, 20):  # first-use allocations
            await ws.close()
        await asyncio.sleep(0.5)
        before = server.rss()
        sockets = await open_sockets(session, server, bench.stream_cookies, count)
        await asyncio.sleep(1)
        per_socket = (server.rss() - before) / count
        for ws in sockets:
            await ws.close()
    return per_socket


async def pages(server: Server, bench: data.BenchData, requests: int) -> dict:
    """Latency and server CPU of the chat page and of one conversation; 10,000 conversations behind them."""
    results = {}
    async with aiohttp.ClientSession(cookies={"sessionid": bench.session_cookie}) as session:
        for name, path in (("/", "/"), ("/c/<id>/", f"/c/{bench.page_conversation}/")):
            for _ in range(5):
                async with session.get(server.base_url + path) as response:
                    assert response.status == 200, response.status
                    await response.read()
            times, cpu = [], server.cpu()
            for _ in range(requests):
                start = time.perf_counter()
                async with session.get(server.base_url + path) as response:
                    await response.read()
                times.append(time.perf_counter() - start)
            results[name] = {"cpu": (server.cpu() - cpu) / requests, "times": times}
    return results


# ---------------------------------------------------------------------------------------------
# The run and its table.


def server_env(database_url: str, fake: Fake, write_log: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOKENOFF_", "REDIS_URL"))}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production",
        "DJANGO_HTTPS": "0",  # served over plain http on loopback, on purpose
        "TOKENOFF_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "TOKENOFF_BASE_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "BENCH_WRITE_LOG": str(write_log),
        "PYTHONPATH": str(ROOT),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def p50_p99(values: list[float]) -> str:
    return f"{ms(percentile(values, 0.5))} / {ms(percentile(values, 0.99))}"


def per_chunk(run: dict) -> float:
    return run["cpu"] / max(run["chunks"], 1)


def markdown(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def table(results: dict) -> str:
    relay = []
    for server, rounds in results["site"].items():
        for streams, site in rounds.items():
            floor, sdk = results["floor"][streams], results["sdk"][streams]
            added = percentile(site["ttft"], 0.5) - percentile(floor["ttft"], 0.5)
            relay.append(
                [
                    server,
                    streams,
                    f"**{ms(added)}**",
                    p50_p99(site["ttft"]),
                    f"{ms(percentile(site['lag'], 0.5))} / **{ms(percentile(site['lag'], 0.99))}**",
                    us(per_chunk(site)),
                    us(per_chunk(floor)),
                    f"**{per_chunk(site) / per_chunk(floor):.2f}**",
                    us(per_chunk(sdk)),
                    f"{site['streaming_socket_bytes'] / 1024:.0f}",
                    f"{site['frames_per_reply']:.1f}",
                    f"{site['writes_per_reply']:.1f}",
                    len(site["errors"]),
                    f"{site['others']:.2f}",
                ]
            )
    direct = [
        [kind, streams, p50_p99(run["ttft"]), p50_p99(run["lag"]), us(per_chunk(run)), len(run["errors"])]
        for kind in ("floor", "sdk")
        for streams, run in results[kind].items()
    ]
    pages = [
        [
            server,
            f"{results['idle'][server] / 1024:.0f}",
            f"`{page}`",
            p50_p99(timing["times"]),
            ms(timing["cpu"]),
        ]
        for server, page_times in results["pages"].items()
        for page, timing in page_times.items()
    ]
    relay_header = [
        "server", "C", "added TTFT p50 (ms)", "TTFT p50 / p99 (ms)", "chunk lag p50 / p99 (ms)",
        "server CPU per chunk (µs)", "floor (µs)", "server / floor", "SDK (µs)",
        "KiB per streaming socket", "frames per reply", "DB writes per reply", "errors", "other CPU (cores)",
    ]  # fmt: skip
    direct_header = ["straight from the upstream", "C", "TTFT p50 / p99 (ms)", "chunk lag p50 / p99 (ms)"]
    direct_header += ["CPU per chunk (µs)", "errors"]
    pages_header = ["server", "KiB per idle socket", "page", "p50 / p99 (ms)", "server CPU per request (ms)"]
    return "\n".join(
        [
            *markdown(relay_header, relay),
            "",
            *markdown(direct_header, direct),
            "",
            *markdown(pages_header, pages),
        ]
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = psutil.virtual_memory().total / 2**30
    python = platform.python_version()
    return f"{os.cpu_count()} CPUs: {cpu}, {memory:.0f} GiB, Python {python}, {platform.platform()}"


def quieter(kept: dict | None, run: dict) -> dict:
    """Of two repetitions, the one other processes disturbed less."""
    return run if kept is None or run["others"] < kept["others"] else kept


def measure(
    args, counts: list[int], servers: list[str], fake: Fake, env: dict, bench, write_log: Path
) -> dict:
    """Every figure of the table; with --repeat, each round's quietest repetition (all kept in "runs")."""
    results: dict = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    results |= {"floor": {}, "sdk": {}, "site": {kind: {} for kind in servers}, "idle": {}, "pages": {}}
    for kind in servers:
        server = Server(kind, env, args.workdir / f"{kind}.log")
        try:
            results["idle"][kind] = asyncio.run(idle_sockets(server, bench, args.idle_sockets))
            results["pages"][kind] = asyncio.run(pages(server, bench, args.page_requests))
        finally:
            server.stop()
    # Each C's rounds run one after the other, so that the floor and the site see the same machine.
    for repetition in range(args.repeat):
        for streams in counts:
            for kind in ("floor", "sdk"):
                run = direct(kind, fake, streams, args.chunks, 1 / args.rate, args.ramp)
                results[kind][streams] = quieter(results[kind].get(streams), run)
                results["runs"].append({"kind": kind, "streams": streams, "repetition": repetition, **run})
            for kind in servers:
                # A fresh server for every round: its memory figures are not flattered by an earlier one's.
                server = Server(kind, env, args.workdir / f"{kind}.log")
                try:
                    run = asyncio.run(site_round(server, fake, bench, write_log, args, streams))
                finally:
                    server.stop()
                results["site"][kind][streams] = quieter(results["site"][kind].get(streams), run)
                results["runs"].append({"kind": kind, "streams": streams, "repetition": repetition, **run})
            print(f"C={streams} done ({repetition + 1} of {args.repeat})", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="1,10,100,500", help="comma-separated concurrent streams (C)")
    parser.add_argument("--chunks", type=int, default=100, help="upstream chunks per reply (N)")
    parser.add_argument("--rate", type=float, default=20.0, help="upstream chunks per second")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which the C streams start")
    parser.add_argument("--servers", default="daphne,uvicorn")
    parser.add_argument("--idle-sockets", type=int, default=500)
    parser.add_argument("--page-requests", type=int, default=100)
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: a new SQLite file")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tokenoff-bench")
    parser.add_argument(
        "--reuse-db", action="store_true", help="keep the last run's database (faster, for tuning)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds per C; the least disturbed is reported")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--history", type=int, default=data.HISTORY_CONVERSATIONS, help="conversations behind the pages"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if any stream saw an error (the small round in CI)"
    )
    parser.add_argument("--profile", type=Path, help="py-spy the server over each round, into this folder")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.streams.split(",")]
    servers = args.servers.split(",")

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # C=500 holds thousands of sockets
    args.workdir.mkdir(parents=True, exist_ok=True)
    write_log = args.workdir / "writes.log"
    write_log.unlink(missing_ok=True)
    fake = Fake(args.workdir / "fake.log")
    try:
        database_url = args.database_url or data.sqlite_url(args.workdir, fresh=not args.reuse_db)
        env = server_env(database_url, fake, write_log)
        data.setup({k: v for k, v in env.items() if k != "BENCH_WRITE_LOG"})
        saved = args.workdir / "bench-data.json"
        members = max(max(counts) + WARMUP_STREAMS, -(-args.idle_sockets // IDLE_SOCKETS_EACH))
        bench = data.load(saved) if args.reuse_db else None
        if bench is None or len(bench.stream_conversations) < members:
            began = time.monotonic()
            bench = data.build(members, args.history)
            saved.write_bytes(orjson.dumps(bench))
            print(f"database built in {time.monotonic() - began:.0f} s", file=sys.stderr)
        results = measure(args, counts, servers, fake, env, bench, write_log)
    finally:
        fake.stop()
    print(f"{results['machine']}\n")
    print(table(results))
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_NON_STR_KEYS))
    rounds = [run for by_count in results["site"].values() for run in by_count.values()]
    rounds += [run for kind in ("floor", "sdk") for run in results[kind].values()]
    errors = [run["errors"] for run in rounds if run["errors"]]
    if args.check and errors:
        print(f"errors in {len(errors)} round(s): {errors[0][:5]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
