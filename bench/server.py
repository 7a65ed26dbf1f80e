"""The site under test, in a process of its own: daphne, uvicorn, granian or hypercorn, and its CPU and
memory; the CPU other processes take meanwhile; py-spy over it on demand."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
APP = "tokenoff_site.asgi:application"

COMMANDS = {
    "daphne": lambda port: ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), APP],
    "uvicorn": lambda port: [
        "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
        "--lifespan", "off", "--no-access-log", "--log-level", "warning",
    ],
    # Granian's Rust HTTP and WebSocket front; `asginl`: ASGI without the lifespan protocol, which
    # Channels' ProtocolTypeRouter does not serve. Its one worker is a child process (see Server.ps).
    "granian": lambda port: [
        "-m", "granian", "--interface", "asginl", "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--workers", "1", "--no-access-log", "--log-level", "warning", APP,
    ],
    # -w 0: the worker in this process, not a child; uvloop's worker class.
    "hypercorn": lambda port: [
        "-m", "hypercorn", "-b", f"127.0.0.1:{port}", "-k", "uvloop", "-w", "0",
        "--log-level", "warning", APP,
    ],
}  # fmt: skip
# Servers whose app runs in a child process: CPU, memory and py-spy are the child's.
WORKER_CHILD = {"granian"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen within 30 s")


class Server:
    """One server process on a free port; every round stops it in a finally."""

    def __init__(self, kind: str, env: dict[str, str], log: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "a")
        self.process = subprocess.Popen(
            [sys.executable, *COMMANDS[kind](self.port)],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until_listening(self.port, self.process, f"{kind} (see {log})")
        self.ps = psutil.Process(self.process.pid)
        if kind in WORKER_CHILD:
            self.ps = self._worker()

    def _worker(self) -> psutil.Process:
        """The one child that serves, once it answers HTTP (its parent only holds the socket)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            children = self.ps.children()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    answered = bool(sock.recv(1))
            except OSError:
                answered = False
            if answered and len(children) == 1:
                return children[0]
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind}: no single worker process answering within 30 s")

    def cpu(self) -> float:
        """CPU seconds (user and system) the server has spent so far."""
        times = self.ps.cpu_times()
        return times.user + times.system

    def rss(self) -> int:
        return self.ps.memory_info().rss

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
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


def profile(server: Server, folder: Path | None, name: str) -> subprocess.Popen | None:
    """py-spy sampling the server over the round (its own CPU is not the server's), or None."""
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{server.kind}-{name}.txt"
    command = [
        str(Path(sys.executable).with_name("py-spy")),
        "record",
        "--pid",
        str(server.ps.pid),
        "--format",
        "raw",
        "--output",
        str(output),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
