"""Import a ChatGPT export or our export.json for a member, in the foreground, and print the report."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.imports import runner
from chat.models import ImportJob


class Command(BaseCommand):
    help = (
        "Imports conversations for a member (--user) from a ChatGPT export ZIP, its conversations.json, "
        "or this site's export.json; a re-run adds nothing twice. Prints the report."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", metavar="NAME", required=True)
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--kind",
            choices=ImportJob.Kind.values,
            help="the file's format (found from the file when left out)",
        )
        parser.add_argument("--quiet-report", action="store_true", help="print the counts only")

    def handle(self, *args, user: str, file: str, kind=None, quiet_report=False, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user named {user!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {file}.")
        job = ImportJob.objects.create(owner=owner, kind=kind or ImportJob.Kind.CHATGPT)
        with path.open("rb") as stream:
            job = runner.process(job, stream, path.stat().st_size)
        if kind and job.kind != kind:
            self.stderr.write(f"The file is a {job.kind} export, not {kind}: imported as {job.kind}.")
        if not quiet_report:
            for row in job.report:
                why = f" ({row['why']})" if row["why"] else ""
                self.stdout.write(f"{row['outcome']:9} {row['title'] or '(untitled)'}{why}")
        summary = f"Imported {job.imported}, skipped {job.skipped} of {job.total} conversations."
        if job.state == ImportJob.State.FAILED:
            raise CommandError(f"{job.error} {summary}")
        self.stdout.write(self.style.SUCCESS(summary))
