"""N server processes on PostgreSQL and Redis behind one nginx, as deploy/ runs the site on one machine.

The processes are bench/server.py's (daphne by default), each on a free port; nginx (Debian's, not a
daemon, with a prefix folder of its own) balances them round-robin with the deployed locations
(deploy/nginx-locations.conf: the WebSocket upgrade). The servers' CPU and RSS are summed; nginx's
own CPU is kept apart. Every process is stopped in a finally, and the run's Redis keys deleted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import psutil

from bench.server import ROOT, Server, free_port

DEPLOY = ROOT / "deploy"
REDIS_URL = "redis://127.0.0.1:6379/0"


SERVICES = ("postgres", "redis-server")  # serve the cluster: their CPU is the site's, not other work's


def _cpu_by_pid(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


class CpuMeter:
    """CPU seconds (user and system) these processes spend from now on; one that exits meanwhile counts
    nothing (PostgreSQL's backends come and go)."""

    def __init__(self, processes: list[psutil.Process]) -> None:
        self.processes = processes
        self.start = _cpu_by_pid(processes)

    def used(self) -> float:
        end = _cpu_by_pid(self.processes)
        return sum(end[pid] - seconds for pid, seconds in self.start.items() if pid in end)


def cluster_env(env: dict[str, str], redis_url: str) -> dict[str, str]:
    """The servers' environment with Redis as channel layer and cache, under a prefix of this run's own."""
    if not env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("several processes need PostgreSQL: give --database-url postgres://…/empty_db")
    return {**env, "REDIS_URL": redis_url, "TOKENOFF_REDIS_PREFIX": f"tokenoff-bench-{os.getpid()}"}


def delete_redis_keys(env: dict[str, str]) -> int:
    """Remove every key the run's servers wrote (frames, groups, send counters): the Redis is shared."""
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=env["TOKENOFF_REDIS_PREFIX"] + "*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return len(keys)
    finally:
        client.close()


def nginx_config(folder: Path, port: int, backends: list[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in backends)
    # Each stream holds two connections in nginx (the browser's and the backend's).
    return f"""
worker_processes 1;
worker_rlimit_nofile 16384;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {DEPLOY}/nginx-map.conf;
    upstream tokenoff_chat {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        include {DEPLOY}/nginx-locations.conf;
    }}
}}
"""


def start_nginx(folder: Path, backends: list[int]) -> tuple[subprocess.Popen, int]:
    """nginx in the foreground (`daemon off`) with its own prefix folder, once it listens."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    port = free_port()
    (folder / "nginx.conf").write_text(nginx_config(folder, port, backends))
    command = ["nginx", "-p", str(folder), "-e", str(folder / "nginx-error.log")]
    command += ["-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited at start: {process.stderr.read().decode()[:500]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    stop_process(process)
    raise RuntimeError("nginx did not listen within 10 s")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Cluster:
    """`count` servers of `kind` behind nginx; used where bench/server.py's Server is (base_url, cpu, rss)."""

    def __init__(self, kind: str, count: int, env: dict[str, str], folder: Path) -> None:
        self.kind, self.folder = kind, folder
        self.servers: list[Server] = []
        self.nginx: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for index in range(count):
                log = folder / f"{kind}-{index}.log"
                log.unlink(missing_ok=True)  # this cluster's only (Server appends)
                self.servers.append(Server(kind, env, log))
            self.nginx, self.port = start_nginx(folder / "nginx", [s.port for s in self.servers])
        except BaseException:
            self.stop()
            raise
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.nginx_ps = psutil.Process(self.nginx.pid)
        # What py-spy (bench/server.py's profile) samples: the first server.
        self.process, self.ps = self.servers[0].process, self.servers[0].ps

    def processes(self) -> list[psutil.Process]:
        """The servers', nginx's, PostgreSQL's and Redis's: the site's, not the machine's other work."""
        return [server.ps for server in self.servers] + self._nginx() + self.services()

    @staticmethod
    def services() -> list[psutil.Process]:
        """PostgreSQL's and Redis's processes now (the machine's: other users' queries count too)."""
        return [p for p in psutil.process_iter(["name"]) if p.info["name"] in SERVICES]

    def _nginx(self) -> list[psutil.Process]:
        """nginx's master and its worker (which does the proxying)."""
        return [self.nginx_ps, *self.nginx_ps.children()]

    def cpu(self) -> float:
        """CPU seconds (user and system) the servers have spent so far, summed (nginx's apart)."""
        return sum(server.cpu() for server in self.servers)

    def nginx_cpu(self) -> float:
        return sum(_cpu_by_pid(self._nginx()).values())

    def rss(self) -> int:
        return sum(self.rss_each())

    def rss_each(self) -> list[int]:
        return [server.rss() for server in self.servers]

    def log_lines(self) -> Counter:
        """The servers' ERROR and WARNING log lines by message (what the site swallowed and went on)."""
        found: Counter = Counter()
        for index in range(len(self.servers)):
            with open(self.folder / f"{self.kind}-{index}.log", errors="replace") as log:
                for line in log:
                    level = next((w for w in (" ERROR ", " WARNING ") if w in line), None)
                    if level is not None:
                        found[level.strip() + " " + line.split(level, 1)[1].strip()[:100]] += 1
        return found

    def stop(self) -> None:
        """nginx first (no new requests), then every server; each even if another fails to stop."""
        try:
            if self.nginx is not None:
                stop_process(self.nginx)
                self.nginx.stderr.close()
        finally:
            for server in self.servers:
                try:
                    server.stop()
                except Exception as exc:  # the others must stop all the same
                    print(f"bench.cluster: stopping {server.kind} on {server.port}: {exc!r}")
