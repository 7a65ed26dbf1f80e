"""Monthly budgets and the spending counted against them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q


def month_start(moment: dt.datetime) -> dt.date:
    return moment.date().replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class Budget(models.Model):
    """A monthly limit in tokens and/or cost, for one user or for everything spent on the team key."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="budget"
    )
    is_team = models.BooleanField("team key", default=False)
    monthly_tokens = models.PositiveBigIntegerField(null=True, blank=True, help_text="Empty: no token limit")
    monthly_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="In the prices' currency; empty: none",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_team"], condition=Q(is_team=True), name="one_team_budget"),
            models.CheckConstraint(
                condition=Q(is_team=True, user__isnull=True) | Q(is_team=False, user__isnull=False),
                name="budget_team_xor_user",
            ),
        ]

    def __str__(self) -> str:
        limits = [
            f"{self.monthly_tokens:,} tokens" if self.monthly_tokens else "",
            f"{self.monthly_cost} cost",
        ]
        owner = "Team key" if self.is_team else str(self.user)
        return f"{owner}: {' / '.join(x for x in limits if x and 'None' not in x) or 'no limit'} a month"

    def share_used(self, spend: Spend | None) -> float:
        """The larger of the token and cost shares used this month (0.0 to over 1.0)."""
        if spend is None:
            return 0.0
        shares = [0.0]
        if self.monthly_tokens:
            shares.append(spend.tokens / self.monthly_tokens)
        if self.monthly_cost:
            shares.append(float(spend.cost / self.monthly_cost))
        return max(shares)


class Spend(models.Model):
    """What one user, or the team key, spent in one month; only ever changed by atomic increments."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    is_team = models.BooleanField(default=False)
    month = models.DateField()
    tokens = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "month"], condition=Q(is_team=False), name="one_spend_per_user"
            ),
            models.UniqueConstraint(
                fields=["month"], condition=Q(is_team=True), name="one_team_spend_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{'team' if self.is_team else self.user} {self.month:%Y-%m}: {self.tokens} tokens"

    @classmethod
    def add(cls, month: dt.date, tokens: int, cost: Decimal, user_id: int | None = None) -> None:
        """Count a reply's spending: an UPDATE … SET tokens = tokens + n, so parallel replies add up."""
        scope = (
            {"is_team": True, "user_id": None} if user_id is None else {"is_team": False, "user_id": user_id}
        )
        for _ in range(2):
            if cls.objects.filter(month=month, **scope).update(
                tokens=F("tokens") + tokens, cost=F("cost") + cost
            ):
                return
            try:
                with transaction.atomic():
                    cls.objects.create(month=month, tokens=tokens, cost=cost, **scope)
                return
            except IntegrityError:
                continue  # another reply created the row first: add to it

    @classmethod
    def of(cls, month: dt.date, user=None) -> Spend | None:
        if user is None:
            return cls.objects.filter(month=month, is_team=True).first()
        return cls.objects.filter(month=month, is_team=False, user=user).first()
