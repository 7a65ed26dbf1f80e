"""A real daphne serving the site in its own process, on its own database, against the fake upstream."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database_url(tmp: Path, url: str | None = None) -> str:
    """A new, empty database: on that PostgreSQL server (or the suite's), else a SQLite file."""
    url = url or settings.DATABASE_URL
    if url.startswith("postgres"):
        # .ci/run names its run's databases (TOKENOFF_E2E_DATABASES) so that it drops exactly those at
        # the end, even after a failure, and never another run's.
        prefix = os.environ.get("TOKENOFF_E2E_DATABASES", "tokenoff_e2e")
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,40}", prefix), prefix
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return url.rsplit("/", 1)[0] + "/" + name
    return f"sqlite:///{tmp / 'e2e.sqlite3'}"


class LiveSite:
    """Daphne processes sharing one database (and Redis, when the suite runs with it)."""

    def __init__(
        self,
        tmp: Path,
        upstream_url: str,
        database_url: str | None = None,
        redis_url: str | None = None,
        **extra_env: str,
    ) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOKENOFF_", "PYTEST"))},
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "TOKENOFF_DOTENV": "0",  # never a developer's .env (tests/settings.py sets it too)
            "DATABASE_URL": fresh_database_url(tmp, database_url),
            "TOKENOFF_BASE_URL": upstream_url,
            # Plain http on purpose (tests/settings.py), and the run's own Redis prefix, shared by all
            # of the run's processes.
            "DJANGO_HTTPS": os.environ.get("DJANGO_HTTPS", "0"),
            "TOKENOFF_REDIS_PREFIX": settings.TOKENOFF_REDIS_PREFIX,
            # One folder of attachments for all of the site's processes, as one storage would be.
            "TOKENOFF_MEDIA_ROOT": str(tmp / "media"),
            **extra_env,
        }
        if redis_url or settings.REDIS_URL:
            self.env["REDIS_URL"] = redis_url or settings.REDIS_URL
        self.processes: list[subprocess.Popen] = []
        self.ports: list[int] = []
        self.logs = tmp
        self.manage("migrate", "--verbosity", "0")

    def manage(self, *args: str, stdin: str = "") -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def shell(self, code: str) -> str:
        """Run Python in the site's shell, with the chat models imported."""
        return self.manage("shell", "-c", f"from chat.models import *  # noqa\n{code}")

    def create_user(self, name: str, password: str, key: str | None = None) -> None:
        self.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user({name!r}, password={password!r})",
        )
        if key:
            self.manage("set_api_key", "--user", name, stdin=key + "\n")

    def start(self, *options: str, server: str = "daphne") -> str:
        """Start one more server process (daphne, or uvicorn as deploy/ runs it: DEPLOYED), with the
        given options; its URL once it answers."""
        port = free_port()
        log = open(self.logs / f"daphne-{port}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", *SERVERS[server](port, options)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        self.ports.append(port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, (self.logs / f"daphne-{port}.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not start")

    def kill(self, index: int = 0) -> None:
        """Kill a daphne process outright, as a crash would."""
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait()

    def log(self, index: int = 0) -> str:
        return (self.logs / f"daphne-{self.ports[index]}.log").read_text()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()


DEPLOY = ROOT / "deploy"


APPLICATION = "tokenoff_site.asgi:application"
# How LiveSite starts each server on a port; the options of deploy/tokenoff-chat@.service follow.
SERVERS = {
    "daphne": lambda port, options: ["daphne", "-b", "127.0.0.1", "-p", str(port), *options, APPLICATION],
    "uvicorn": lambda port, options: [
        "uvicorn",
        APPLICATION,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
    ],
}


@dataclass(frozen=True)
class Deployed:
    """The server deploy/tokenoff-chat@.service starts, and its options past the address and port
    (among them how it reads the client's address from nginx's headers)."""

    server: str
    options: tuple[str, ...]


def deployed() -> Deployed:
    service = (DEPLOY / "tokenoff-chat@.service").read_text()
    (command,) = [line.split() for line in service.splitlines() if line.startswith("ExecStart=")]
    server = Path(command[0].removeprefix("ExecStart=")).name
    options = [word for word in command[command.index("%i") + 1 :] if word != APPLICATION]
    return Deployed(server, tuple(options))


DEPLOYED = deployed()


def start_nginx(tmp: Path, backend_ports: list[int]) -> tuple[subprocess.Popen, str]:
    """Debian's nginx with the deployed locations, balancing round-robin over the given daphnes."""
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in backend_ports)
    (tmp / "nginx.conf").write_text(
        f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {DEPLOY}/nginx-map.conf;
    upstream tokenoff_chat {{
{servers}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        include {DEPLOY}/nginx-locations.conf;
    }}
}}
"""
    )
    process = subprocess.Popen(
        ["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start")
