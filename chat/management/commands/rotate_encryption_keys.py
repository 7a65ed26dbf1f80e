"""Re-encrypt every stored key under the first of TOKENOFF_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError

from chat.models import ApiKey, UnreadableKeys


class Command(BaseCommand):
    help = "Re-encrypts every stored API key under the first key of TOKENOFF_ENCRYPTION_KEYS."
    # The check of stored keys (chat.E001) must not stop the command that repairs what it reports.
    requires_system_checks = []

    def handle(self, *args, **options):
        try:
            count = ApiKey.objects.rotate()
        except UnreadableKeys as unreadable:
            raise CommandError(
                f"No configured key opens the API keys {unreadable}; nothing was changed. "
                "Add the old encryption key back to TOKENOFF_ENCRYPTION_KEYS and run again."
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} API key(s) under the first key."))
