"""Add the upstream's models that the catalogue lacks, disabled, for an admin to review."""

from django.core.management.base import BaseCommand, CommandError

from chat.upstream import client as upstream
from chat.upstream import services


class Command(BaseCommand):
    help = "Adds the upstream's models the catalogue lacks (disabled); names those it no longer lists."

    def handle(self, *args, **options):
        try:
            result = services.sync_catalogue()
        except upstream.UpstreamError as exc:
            raise CommandError(f"Could not list the upstream's models: {exc.message}") from None
        for name in result.added:
            self.stdout.write(f"added (disabled): {name}")
        for name in result.missing:
            self.stdout.write(self.style.WARNING(f"no longer listed upstream: {name}"))
        self.stdout.write(self.style.SUCCESS(f"{len(result.added)} model(s) added."))
