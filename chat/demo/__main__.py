"""`python -m chat.demo --host 127.0.0.1 --port 8001 --delay 0.03`: the fake upstream in a process of its own
(quickstart --demo, bench/relay.py)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from chat.demo.server import FakeServer


async def _serve_forever(host: str, port: int, delay: float) -> None:
    """Serve until SIGINT/SIGTERM."""
    fake = FakeServer(host=host, port=port, delay=delay)
    base_url = await fake.start_async()
    print(f"fake upstream listening on {base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await fake.stop_async()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m chat.demo", description="The offline fake upstream.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between streamed chunks")
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args.host, args.port, args.delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
