"""Create or change a user of the test identity provider: password, address, groups, active or not."""

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password")
        parser.add_argument("--email", default="")
        parser.add_argument("--groups", help="comma-separated; empty for none", default=None)
        parser.add_argument("--inactive", action="store_true")

    def handle(self, username, password, email, groups, inactive, **options):
        user, _created = User.objects.get_or_create(username=username)
        if password:
            user.set_password(password)
        user.email = email or user.email or f"{username}@example.com"
        user.is_active = not inactive
        user.save()
        if groups is not None:
            names = [name.strip() for name in groups.split(",") if name.strip()]
            user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
