"""Remove conversations idle longer than the retention period (flagged ones stay), and attachments never
sent; a dry run unless --yes."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.attachments import cleanup
from chat.review import retention


class Command(BaseCommand):
    help = (
        "Deletes conversations whose last activity is older than TOKENOFF_RETENTION_DAYS (or --days), "
        "keeping flagged ones, and attachments uploaded but never sent for TOKENOFF_ORPHAN_HOURS (with their "
        "files; this runs even when retention is off). Without --yes it only says what it would delete."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override TOKENOFF_RETENTION_DAYS for this run.")
        parser.add_argument("--yes", action="store_true", help="Really delete (otherwise a dry run).")

    def handle(self, *args, days=None, yes=False, **options):
        self._sweep(yes)
        if days is None:
            days = settings.TOKENOFF_RETENTION_DAYS
            if days == 0:
                self.stdout.write(
                    "Retention is off (TOKENOFF_RETENTION_DAYS is 0): nothing is purged. "
                    "Pass --days N to purge conversations idle for N days anyway."
                )
                return
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = retention.cutoff_for(days)
        found = retention.plan(cutoff)
        when = f"{cutoff:%Y-%m-%d %H:%M} UTC"
        kept = f" {found.kept_flagged:,} flagged one(s) are kept." if found.kept_flagged else ""
        if not yes:
            self.stdout.write(
                f"Dry run: {found.conversations:,} conversation(s) ({found.messages:,} messages) were last "
                f"active before {when} and would be deleted.{kept} Run again with --yes to delete them."
            )
            return
        deleted = retention.purge(cutoff, days)
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {deleted:,} conversation(s) last active before {when}.{kept}")
        )

    def _sweep(self, yes: bool) -> None:
        """Uploads never sent: each member's own uploads sweep them too, this catches those who left."""
        now, hours = timezone.now(), settings.TOKENOFF_ORPHAN_HOURS
        if not yes:
            found = cleanup.orphans(now).count()
            self.stdout.write(
                f"Dry run: {found:,} attachment(s) uploaded more than {hours} hours ago and never sent "
                "would be deleted."
            )
            return
        swept = cleanup.sweep_orphans(now)
        self.stdout.write(
            f"Deleted {swept:,} attachment(s) uploaded more than {hours} hours ago and never sent."
        )
