"""Migrate, write this machine's .env the first time, create an admin the first time, and serve the site
with daphne on 127.0.0.1:8000 (--port N)."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from axes.utils import reset as reset_lockouts
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from chat.models import ApiKey

ADMIN_USERNAME = "admin"
DEMO_HOST = "127.0.0.1"  # the fake upstream (--demo) listens here, on the site's port + 1


def _stop(*_) -> None:
    """SIGTERM ends the command like Ctrl+C does: its server processes are ended with it."""
    raise KeyboardInterrupt


def _bindable(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (as daphne does: SO_REUSEADDR, so a closed
    connection's TIME_WAIT does not count as busy)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CommandError(f"cannot listen on {host}: {exc}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address[:2] if family == socket.AF_INET else address)
        except OSError:
            return False
    return True


def _listening(host: str, port: int) -> bool:
    """Whether something accepts connections on host:port (a wildcard address is reached locally)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    try:
        with socket.create_connection((target, port), timeout=1):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "Sets the site up on this machine and serves it (--demo: against the built-in fake upstream)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo", action="store_true", help="reply from chat/demo/server.py: no key, no network"
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=8000, help="the site's port (--demo: and the next one)"
        )
        parser.add_argument("--no-serve", action="store_true", help="set up only")
        parser.add_argument(
            "--reset-admin-password",
            action="store_true",
            help="give the admin account a new password, print it and stop (the site is not served)",
        )
        parser.add_argument(
            "--env-file",
            type=Path,
            default=None,
            help="where the first run writes the keys and DJANGO_DEBUG (default: .env beside manage.py)",
        )

    def handle(
        self,
        *args,
        demo=False,
        host="127.0.0.1",
        port=8000,
        no_serve=False,
        reset_admin_password=False,
        env_file=None,
        **options,
    ):
        if not (no_serve or reset_admin_password):
            self._check_ports(host, port, demo)
        call_command("migrate", interactive=False, verbosity=0)
        self._write_env_file(env_file or getattr(settings, "DOTENV_PATH", None))
        login = self._first_admin()
        if reset_admin_password:
            self._password_box(*(login or self._reset_admin_password()), None)
            return
        if no_serve:
            if login:
                self._password_box(*login, None)
            return
        try:
            self._serve(demo, host, port, login)
        except KeyboardInterrupt:
            pass

    def _check_ports(self, host: str, port: int, demo: bool) -> None:
        """End with one line, and status 1, when a port the site needs is taken."""

        def free(site: int) -> bool:
            return _bindable(host, site) and (not demo or _bindable(DEMO_HOST, site + 1))

        if free(port):
            return
        busy = port if not _bindable(host, port) else port + 1
        suggestion = next((p for p in range(port + 1, port + 200) if free(p)), None)
        what = f"port {busy}" if busy == port else f"port {busy} (the demo upstream's)"
        hint = f"; try --port {suggestion}" if suggestion else ""
        self.stderr.write(f"{what} is busy{hint}")
        raise SystemExit(1)

    def _write_env_file(self, path: Path | None) -> None:
        """The first run: this machine's own secret and encryption keys, and DJANGO_DEBUG on, in a .env
        that tokenoff_site/settings.py reads for every command (the real environment wins over it)."""
        if path is None or path.exists():
            return
        encryption_keys = [Fernet.generate_key().decode()]
        if ApiKey.objects.exists():
            # Keys stored before this file existed stay readable: the keys they were stored under follow.
            encryption_keys += settings.TOKENOFF_ENCRYPTION_KEYS
        values = {
            "DJANGO_DEBUG": "1",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "TOKENOFF_ENCRYPTION_KEYS": ",".join(encryption_keys),
        }
        lines = [
            "# Written by `manage.py quickstart` on its first run: this machine's development settings,",
            "# read by tokenoff_site/settings.py for every manage.py command (a variable set in the real",
            "# environment wins). Keep it: the API keys stored in the database are encrypted with",
            "# TOKENOFF_ENCRYPTION_KEYS. Never commit it (it is in .gitignore).",
            *(f"{name}={value}" for name, value in values.items()),
        ]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        for name, value in values.items():
            os.environ.setdefault(name, value)  # the server processes started below see them too
        self.stdout.write(f"Wrote {path} (this machine's keys, DJANGO_DEBUG=1); keep it, never commit it.")

    def _first_admin(self) -> tuple[str, str] | None:
        """The admin account, created the first time: its user name and password (None: there is one)."""
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            return None
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(ADMIN_USERNAME, "", password)
        self.stdout.write(self.style.SUCCESS(f"Created the admin account: user {ADMIN_USERNAME}."))
        return ADMIN_USERNAME, password

    def _reset_admin_password(self) -> tuple[str, str]:
        """A new password for the admin account quickstart created (else the first superuser)."""
        superusers = get_user_model().objects.filter(is_superuser=True).order_by("pk")
        user = superusers.filter(username=ADMIN_USERNAME).first() or superusers.first()
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        reset_lockouts(username=user.get_username())  # a locked-out admin can log in again
        self.stdout.write(self.style.SUCCESS(f"New password for the admin account {user.get_username()}."))
        return user.get_username(), password

    def _password_box(self, username: str, password: str, url: str | None) -> None:
        """The admin's password, once (it is stored hashed), framed so that it stands out of the logs."""
        rows = [
            f"Log in at {url}" if url else "Log in to the site as:",
            f"user: {username}   password: {password}",
            "Shown once. Lost it? manage.py quickstart --reset-admin-password",
        ]
        width = max(len(row) for row in rows)
        rule = "+" + "-" * (width + 2) + "+"
        box = [rule, *(f"| {row.ljust(width)} |" for row in rows), rule]
        self.stdout.write(self.style.SUCCESS("\n".join(box)))

    def _serve(self, demo: bool, host: str, port: int, login: tuple[str, str] | None) -> None:
        env = dict(os.environ, DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "1"))
        children: list[subprocess.Popen] = []
        signal.signal(signal.SIGTERM, _stop)
        try:
            if demo:
                fake_port = port + 1
                fake = [sys.executable, "-m", "chat.demo", "--host", DEMO_HOST, "--port", str(fake_port)]
                self.stdout.flush()  # what came before stays before the children's output, even in a log file
                children.append(subprocess.Popen([*fake, "--delay", "0.04"]))
                self._wait_listening(children[-1], DEMO_HOST, fake_port, "the demo upstream's")
                env.update(TOKENOFF_BASE_URL=f"http://{DEMO_HOST}:{fake_port}/v1", TOKENOFF_DEMO="1")
                self.stdout.write(
                    self.style.WARNING(
                        "Demo mode: replies come from the built-in fake upstream, not TokenOff."
                    )
                )
            elif not settings.TOKENOFF_DEMO:
                self.stdout.write("Replies come from " + settings.TOKENOFF_BASE_URL)
            url = f"http://{host}:{port}/"
            self.stdout.flush()
            children.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "daphne",
                        "-b",
                        host,
                        "-p",
                        str(port),
                        "tokenoff_site.asgi:application",
                    ],
                    env=env,
                )
            )
            daphne = children[-1]
            self._wait_listening(daphne, host, port, "")
            if login:
                self._password_box(*login, url)
            self.stdout.write(self.style.SUCCESS(f"Open {url} (Ctrl+C stops)"))
            self.stdout.flush()
            daphne.wait()
        finally:
            for child in reversed(children):
                if child.poll() is None:
                    child.terminate()
                    child.wait(timeout=10)

    def _wait_listening(self, child: subprocess.Popen, host: str, port: int, whose: str) -> None:
        """Until the child accepts connections on its port; a child that ends first ends the command."""
        while not _listening(host, port):
            if child.poll() is not None:
                what = f"port {port}" + (f" ({whose})" if whose else "")
                self.stderr.write(f"{what}: the server stopped before listening (its output is above)")
                raise SystemExit(1)
            time.sleep(0.05)
