"""The fake upstream in a process of its own, and the clients that read its streams straight (the floor)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import psutil

from bench.server import ROOT, Others, free_port, wait_until_listening


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
