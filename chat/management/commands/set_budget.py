"""Set a monthly budget for a user or for the team key."""

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.models.budgets import Budget


def _cost(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CommandError(f"--cost takes a number, not {text!r}.") from None
    if value < 0:
        raise CommandError("--cost cannot be negative.")
    return value


class Command(BaseCommand):
    help = "Sets a monthly budget in tokens and/or cost for a user (--user) or the team key (--team)."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", metavar="NAME")
        who.add_argument("--team", action="store_true")
        parser.add_argument("--tokens", type=int, metavar="N", help="tokens a month (0 removes the limit)")
        parser.add_argument("--cost", type=_cost, metavar="X", help="cost a month (0 removes the limit)")

    def handle(self, *args, user=None, team=False, tokens=None, cost=None, **options):
        if tokens is None and cost is None:
            raise CommandError("Give --tokens and/or --cost.")
        if tokens is not None and tokens < 0:
            raise CommandError("--tokens cannot be negative.")
        owner = None
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"No user named {user!r}.")
        budget, _ = Budget.objects.get_or_create(user=owner, is_team=owner is None)
        if tokens is not None:
            budget.monthly_tokens = tokens or None
        if cost is not None:
            budget.monthly_cost = cost or None
        budget.save()
        self.stdout.write(self.style.SUCCESS(str(budget)))
