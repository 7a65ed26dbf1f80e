"""A socket the site refuses stops the benchmark (bench/sockets.py), and --check fails on any stream's
error (bench/report.py): the small round in CI cannot pass on figures from fewer streams than asked."""

import asyncio
from collections import Counter

import aiohttp
import pytest
from aiohttp import web

from bench import report, workloads
from bench.sockets import Refused, open_sockets

CAP = 5  # this stand-in site's cap on one member's sockets, answered with 403 like the consumer's


async def capped_site(cookies: list[str]) -> list[str]:
    """Open one socket a cookie on a site that refuses a member's sixth; the refusals it made."""
    open_per_member: Counter = Counter()
    refused: list[str] = []

    async def chat_socket(request: web.Request) -> web.StreamResponse:
        member = request.cookies["sessionid"]
        if open_per_member[member] >= CAP:
            refused.append(member)
            return web.Response(status=403)
        open_per_member[member] += 1
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _msg in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws/chat/", chat_socket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            for ws in await open_sockets(session, f"http://127.0.0.1:{port}", cookies):
                await ws.close()
    finally:
        await runner.cleanup()
    return refused


def test_the_plan_opens_every_socket():
    members = workloads.members_needed(10, 40)
    cookies = [f"member-{i}" for i in workloads.spread(40, members)]
    assert asyncio.run(capped_site(cookies)) == []


def test_a_refused_socket_stops_the_run():
    with pytest.raises(Refused, match=r"refused socket \d of 6 with HTTP 403 \(6 of them for its member\)"):
        asyncio.run(capped_site(["member-0"] * 6))


def results_with(errors: list[str]) -> dict:
    run = {"errors": errors}
    return {"site": {"daphne": {"new": {10: run}}}, "floor": {"new": {10: {"errors": []}}}, "sdk": {}}


def test_check_fails_on_any_stream_error(capsys):
    assert report.status(results_with(["rate_limited"]), check=True) == 1
    assert "errors in 1 round(s), the first: ['rate_limited']" in capsys.readouterr().err
    assert report.status(results_with(["rate_limited"]), check=False) == 0
    assert report.status(results_with([]), check=True) == 0


def test_a_repetition_with_errors_is_never_the_one_reported():
    failed = {"errors": ["internal_error"], "others": 0.1}
    clean, busier = {"errors": [], "others": 0.2}, {"errors": [], "others": 1.5}
    assert report.quieter(None, failed) is failed
    assert report.quieter(failed, clean) is clean
    assert report.quieter(clean, failed) is clean
    assert report.quieter(busier, clean) is clean
