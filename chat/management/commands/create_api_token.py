"""Create a personal API token for a member and print it, once: only its digest is kept."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.models import ApiToken


class Command(BaseCommand):
    help = "Creates a personal API token for /api/v1/ and prints it; it cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("--user", metavar="NAME", required=True, help="the username the token acts for")
        parser.add_argument("--name", metavar="LABEL", default="API token", help="what the token is for")
        parser.add_argument("--days", type=int, metavar="N", help="expires after N days (default: never)")

    def handle(self, *args, user, name, days=None, **options):
        # An admin's command: the manage_api_tokens permission is for members on the settings page.
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user named {user!r}.")
        if not owner.is_active:
            raise CommandError(f"{user} is deactivated: their tokens would not work.")
        if days is not None and not 0 < days <= 3650:
            raise CommandError("--days is between 1 and 3650.")
        expires = timezone.now() + dt.timedelta(days=days) if days else None
        row, token = ApiToken.issue(owner, name, expires)
        self.stderr.write(f"Created {row.shown_prefix} for {user}. It is shown once: keep it now.")
        self.stdout.write(token)
