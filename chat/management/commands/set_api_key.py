"""Store a user's or the team's TokenOff key, read from standard input and never echoed."""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.views.decorators.debug import sensitive_variables

from chat.models import ApiKey


class Command(BaseCommand):
    help = "Reads one API key from standard input and stores it encrypted for a user or the team."
    # Replacing a key that no configured encryption key opens is how chat.E001 gets fixed.
    requires_system_checks = []

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", metavar="NAME", help="the username whose key this is")
        who.add_argument("--team", action="store_true", help="the team key, for members who have none")

    @sensitive_variables()
    def handle(self, *args, user=None, team=False, **options):
        owner = None
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"No user named {user!r}.")
        # A terminal gets a prompt that does not echo; a pipe is read as it is.
        secret = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()
        secret = secret.strip()
        if not secret:
            raise CommandError("No key was given on standard input.")
        key = ApiKey.store(secret, user=owner)
        self.stdout.write(
            self.style.SUCCESS(f"Stored {'the team key' if team else f'the key of {user}'}: {key.masked}")
        )
