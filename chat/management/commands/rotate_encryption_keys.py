"""Re-encrypt every stored key under the first of TOKENOFF_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from chat import crypto
from chat.models import ApiKey


class Command(BaseCommand):
    help = "Re-encrypts every stored API key under the first key of TOKENOFF_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        failed = []
        with transaction.atomic():
            keys = list(ApiKey.objects.select_for_update())
            for key in keys:
                try:
                    key.encrypted = crypto.rotate(key.encrypted)
                except crypto.InvalidToken:
                    failed.append(key.pk)
                    continue
                key.save(update_fields=["encrypted"])
            if failed:
                # Nothing changes unless everything can: a half-rotated table is worse than none.
                raise CommandError(
                    f"No configured key opens the API keys with ids {failed}; nothing was changed. "
                    "Add the old encryption key back to TOKENOFF_ENCRYPTION_KEYS and run again."
                )
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {len(keys)} API key(s) under the first key."))
