"""The site's rounds: C streams of one workload on a server, idle sockets, and pages."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp
import psutil

from bench import cluster, data, workloads
from bench.receivers import message
from bench.server import Others, Server, profile
from bench.sockets import open_sockets, replies
from bench.upstream import Fake


def writes_so_far(log: Path) -> int:
    if not log.exists():
        return 0
    with open(log, "rb") as lines:
        return sum(1 for _ in lines)


def own_processes(server) -> list[psutil.Process]:
    """The site's processes: one Server's, or a Cluster's servers and its nginx (bench/cluster.py)."""
    return server.processes() if hasattr(server, "processes") else [server.ps]


def _cookies(bench: data.BenchData, members: list[int]) -> list[str]:
    return [bench.stream_cookies[member] for member in members]


async def site_round(
    server: Server,
    fake: Fake,
    bench: data.BenchData,
    write_log: Path,
    args,
    streams: int,
    workload: workloads.Workload,
) -> dict:
    """C sockets, one reply each (and its title with new conversations), with the server's CPU and memory."""
    members = len(bench.stream_cookies)
    warm_members = workloads.warmup_members(members)
    chosen = workloads.stream_members(streams, members)
    conversations = [
        None if workload.new_conversations else bench.stream_conversations[member] for member in chosen
    ]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        warm = await open_sockets(session, server.base_url, _cookies(bench, warm_members))
        warm_conversations = [bench.stream_conversations[member] for member in warm_members]
        await replies(warm, warm_conversations, message(5, 0.01), 5, 0.1)
        for ws in warm:
            await ws.close()
        sockets = await open_sockets(session, server.base_url, _cookies(bench, chosen))
        await asyncio.sleep(1)
        profiler = profile(server, args.profile, f"{workload.name}-{streams}")
        others = Others([psutil.Process(), *own_processes(server), psutil.Process(fake.process.pid)])
        rss_idle, writes, cpu = server.rss(), writes_so_far(write_log), server.cpu()
        proxy = server.nginx_cpu() if hasattr(server, "nginx_cpu") else 0.0
        services = cluster.CpuMeter(server.services() if hasattr(server, "services") else [])
        peak = rss_idle
        text = message(args.chunks, 1 / args.rate)
        work = asyncio.ensure_future(
            replies(sockets, conversations, text, args.chunks, workload.ramp(args.ramp))
        )
        while not work.done():
            peak = max(peak, server.rss())
            await asyncio.wait([work], timeout=0.2)
        seen = work.result()
        cpu = server.cpu() - cpu
        proxy = (server.nginx_cpu() if hasattr(server, "nginx_cpu") else 0.0) - proxy
        services_cpu = services.used()
        writes = writes_so_far(write_log) - writes
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        for ws in sockets:
            await ws.close()
    if workload.new_conversations and seen.titles != streams and not seen.errors:
        seen.errors.append(f"{seen.titles} titles for {streams} new conversations")
    return {
        "cpu": cpu,
        "nginx_cpu": proxy,
        "services_cpu": services_cpu,  # PostgreSQL and Redis, with --cluster
        "chunks": seen.chunks,
        "ttft": seen.ttft,
        "lag": seen.lag,
        "errors": seen.errors,
        "titles": seen.titles,
        "frames_per_reply": seen.frames / streams,
        "writes_per_reply": writes / streams,
        "streaming_socket_bytes": (peak - rss_idle) / streams,
        "others": others.cores(),
    }


async def idle_sockets(server: Server, bench: data.BenchData, count: int) -> float:
    """RSS added per open, idle socket."""
    members = len(bench.stream_cookies)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        first = _cookies(bench, workloads.spread(20, members))
        for ws in await open_sockets(session, server.base_url, first):  # first-use allocations
            await ws.close()
        await asyncio.sleep(0.5)
        before = server.rss()
        sockets = await open_sockets(
            session, server.base_url, _cookies(bench, workloads.spread(count, members))
        )
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
