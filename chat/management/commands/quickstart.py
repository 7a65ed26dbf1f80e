"""Migrate, create an admin the first time, and serve the site with daphne on 127.0.0.1:8000."""

import os
import secrets
import signal
import subprocess
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Sets the site up on this machine and serves it (--demo: against the built-in fake upstream)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo", action="store_true", help="reply from chat/demo/server.py: no key, no network"
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up only")

    def handle(self, *args, demo=False, host="127.0.0.1", port=8000, no_serve=False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self._first_admin()
        if no_serve:
            return
        env = dict(os.environ, DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "1"))
        fake = None
        if demo:
            fake_port = port + 1
            fake = subprocess.Popen(
                [sys.executable, "-m", "chat.demo", "--port", str(fake_port), "--delay", "0.04"]
            )
            env.update(TOKENOFF_BASE_URL=f"http://127.0.0.1:{fake_port}/v1", TOKENOFF_DEMO="1")
            self.stdout.write(
                self.style.WARNING("Demo mode: replies come from the built-in fake upstream, not TokenOff.")
            )
        elif not settings.TOKENOFF_DEMO:
            self.stdout.write("Replies come from " + settings.TOKENOFF_BASE_URL)
        self.stdout.write(self.style.SUCCESS(f"Open http://{host}:{port}/ (Ctrl+C stops)"))
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "tokenoff_site.asgi:application"],
            env=env,
        )
        # A SIGTERM to this command ends its children too, not only Ctrl+C in a terminal.
        signal.signal(signal.SIGTERM, lambda *_: daphne.terminate())
        try:
            daphne.wait()
        except KeyboardInterrupt:
            daphne.terminate()
            daphne.wait(timeout=10)
        finally:
            if fake is not None:
                fake.terminate()
                fake.wait(timeout=5)

    def _first_admin(self) -> None:
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "", password)
        # Shown this once only: it is stored hashed.
        self.stdout.write(self.style.SUCCESS(f"Created the admin account: user admin, password {password}"))
