"""`manage.py quickstart` as a newcomer runs it: in a shell with no variables set, on a temporary database,
with the .env it writes aimed at tmp_path (TOKENOFF_DOTENV), never the checkout's own."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BOX_LINE = re.compile(r"^\| user: (\S+)\s+password: (\S+)\s+\|$")


@pytest.fixture
def newcomer(tmp_path):
    """A shell without any of the site's variables: only its .env (in tmp_path) and its database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOKENOFF_", "PYTEST"))}
    env.pop("REDIS_URL", None)
    env.update(TOKENOFF_DOTENV=str(tmp_path / ".env"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return env


def manage(env: dict, *args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def boxed_login(output: str) -> tuple[str, str]:
    found = [BOX_LINE.match(line) for line in output.splitlines()]
    logins = [match.groups() for match in found if match]
    assert len(logins) == 1, output
    return logins[0]


def python(env: dict, code: str) -> str:
    result = manage(env, "shell", "--verbosity", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def free_ports(count: int) -> int:
    """A port such that it and the next count-1 ones are free now."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + count < 65536 and all(bindable(port + i) for i in range(count)):
            return port


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_after_quickstart_every_command_works_in_the_same_shell(newcomer, tmp_path):
    first = manage(newcomer, "quickstart", "--no-serve")
    assert first.returncode == 0, first.stderr
    username, password = boxed_login(first.stdout)
    assert username == "admin"

    dotenv = tmp_path / ".env"
    values = dict(line.split("=", 1) for line in dotenv.read_text().splitlines() if not line.startswith("#"))
    assert values["DJANGO_DEBUG"] == "1"
    assert len(values["DJANGO_SECRET_KEY"]) >= 50
    Fernet(values["TOKENOFF_ENCRYPTION_KEYS"])  # a real key, this machine's own
    assert values["TOKENOFF_ENCRYPTION_KEYS"] != settings.DEV_ENCRYPTION_KEY
    assert dotenv.stat().st_mode & 0o077 == 0

    # The README's next step, then the commands a newcomer tries: no ImproperlyConfigured.
    key = manage(newcomer, "set_api_key", "--team", stdin="sk-newcomer-team-key-1234\n")
    assert key.returncode == 0, key.stderr
    assert python(newcomer, "print(1)") == "1"
    assert python(newcomer, "from chat.models import ApiKey; print(ApiKey.objects.get().reveal())") == (
        "sk-newcomer-team-key-1234"
    )
    configured = "from django.conf import settings as s; print(s.SECRET_KEY, s.TOKENOFF_ENCRYPTION_KEYS[0])"
    assert python(newcomer, configured).split() == [
        values["DJANGO_SECRET_KEY"],
        values["TOKENOFF_ENCRYPTION_KEYS"],
    ]
    check = "from django.contrib.auth.models import User; admin = User.objects.get(username='admin'); "
    check += f"print(admin.check_password({password!r}))"
    assert python(newcomer, check) == "True"

    # A second run keeps the file (keys stay decryptable) and creates no second admin.
    again = manage(newcomer, "quickstart", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert "password" not in again.stdout
    assert (
        dict(line.split("=", 1) for line in dotenv.read_text().splitlines() if "=" in line and line[0] != "#")
        == values
    )


def test_the_real_environment_wins_over_the_env_file(newcomer):
    assert manage(newcomer, "quickstart", "--no-serve").returncode == 0
    assert python(
        {**newcomer, "DJANGO_SECRET_KEY": "from-the-real-environment"},
        "from django.conf import settings as s; print(s.SECRET_KEY)",
    ) == ("from-the-real-environment")


def test_keys_stored_before_the_env_file_stay_readable(newcomer, tmp_path):
    development = {**newcomer, "DJANGO_DEBUG": "1", "TOKENOFF_DOTENV": "0"}  # the way it was: no .env
    assert manage(development, "migrate", "--verbosity", "0").returncode == 0
    assert manage(development, "set_api_key", "--team", stdin="sk-older-key-5678\n").returncode == 0
    assert manage(newcomer, "quickstart", "--no-serve").returncode == 0
    keys = (tmp_path / ".env").read_text().split("TOKENOFF_ENCRYPTION_KEYS=")[1].split()[0].split(",")
    assert keys[1:] == [settings.DEV_ENCRYPTION_KEY]
    assert (
        python(newcomer, "from chat.models import ApiKey; print(ApiKey.objects.get().reveal())")
        == "sk-older-key-5678"
    )


def test_the_test_settings_never_read_a_dotenv(tmp_path):
    assert settings.DOTENV_PATH is None
    dotenv = tmp_path / ".env"
    dotenv.write_text("TOKENOFF_REVIEW=0\nDJANGO_SECRET_KEY=from-a-developers-dotenv\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOKENOFF_", "PYTEST"))}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", TOKENOFF_DOTENV=str(dotenv))
    code = "import django; django.setup(); from django.conf import settings as s; "
    code += "print(s.TOKENOFF_REVIEW_ENABLED, s.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "test-secret-key-not-for-production"]


def test_reset_admin_password_prints_a_new_one(newcomer):
    _, first = boxed_login(manage(newcomer, "quickstart", "--no-serve").stdout)
    reset = manage(newcomer, "quickstart", "--reset-admin-password")
    assert reset.returncode == 0, reset.stderr
    username, second = boxed_login(reset.stdout)
    assert username == "admin" and second != first
    check = "from django.contrib.auth.models import User; u = User.objects.get(username='admin'); "
    assert (
        python(newcomer, check + f"print(u.check_password({first!r}), u.check_password({second!r}))")
        == "False True"
    )


@pytest.mark.parametrize("demo", [False, True], ids=["site", "demo-upstream"])
def test_a_busy_port_ends_with_one_line(newcomer, demo):
    port = free_ports(3)
    taken = port + 1 if demo else port
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        args = ["quickstart", "--port", str(port)] + (["--demo"] if demo else [])
        result = manage(newcomer, *args, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    suggested = int(re.search(r"try --port (\d+)$", result.stderr.strip()).group(1))
    assert suggested > port
    whose = " (the demo upstream's)" if demo else ""
    assert result.stderr.strip() == f"port {taken}{whose} is busy; try --port {suggested}"


def test_the_password_box_comes_once_the_site_listens(newcomer):
    port = free_ports(2)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "quickstart", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=newcomer,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in server.stdout], daemon=True).start()
    try:
        seen = []
        while not (seen and BOX_LINE.match(seen[-1].rstrip("\n"))):
            seen.append(lines.get(timeout=60))
            # The box is printed only once the port accepts connections.
            if BOX_LINE.match(seen[-1].rstrip("\n")):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert any(f"Log in at http://127.0.0.1:{port}/" in line for line in seen)
        assert boxed_login("".join(seen))[0] == "admin"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert bindable(port) and bindable(port + 1)  # daphne and the fake upstream ended with it
