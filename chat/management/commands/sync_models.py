"""Add the upstream's models that the catalogue lacks, disabled, for an admin to review."""

import asyncio

from django.core.management.base import BaseCommand, CommandError

from chat import upstream
from chat.models import ApiKey, ChatModel


class Command(BaseCommand):
    help = "Adds the upstream's models the catalogue lacks (disabled); names those it no longer lists."

    def handle(self, *args, **options):
        key = ApiKey.objects.filter(is_team=True).first() or ApiKey.objects.first()
        try:
            names = asyncio.run(self._fetch(key))
        except upstream.UpstreamError as exc:
            raise CommandError(f"Could not list the upstream's models: {exc.message}") from None
        added = ChatModel.sync(names)
        for name in added:
            self.stdout.write(f"added (disabled): {name}")
        for name in ChatModel.objects.exclude(name__in=names).values_list("name", flat=True):
            self.stdout.write(self.style.WARNING(f"no longer listed upstream: {name}"))
        self.stdout.write(self.style.SUCCESS(f"{len(added)} model(s) added."))

    @staticmethod
    async def _fetch(key) -> list[str]:
        try:
            return await upstream.list_models(key)
        finally:
            await upstream.aclose()
