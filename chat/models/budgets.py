"""Monthly budgets, the spending counted against them, and what requests in flight hold of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.lib.money import limits
from chat.models import freshness

MILLION = Decimal(1_000_000)
# A reply may not start unless this much output still fits: fewer tokens make no useful answer.
MIN_REPLY_OUTPUT = 64


def month_start(moment: dt.datetime) -> dt.date:
    return moment.date().replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class Budget(models.Model):
    """A monthly limit in tokens and/or cost, for one user or for everything spent on the team key."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="budget"
    )
    is_team = models.BooleanField(_("team key"), default=False)
    monthly_tokens = models.PositiveBigIntegerField(
        _("tokens a month"), null=True, blank=True, help_text=_("Empty: no token limit")
    )
    monthly_cost = models.DecimalField(
        _("cost a month"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("In the prices' currency; empty: none"),
    )

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        constraints = [
            models.UniqueConstraint(fields=["is_team"], condition=Q(is_team=True), name="one_team_budget"),
            models.CheckConstraint(
                condition=Q(is_team=True, user__isnull=True) | Q(is_team=False, user__isnull=False),
                name="budget_team_xor_user",
            ),
        ]

    def __str__(self) -> str:
        # In words, as share_used reads them: an empty or 0 limit is none; money in the prices' currency.
        owner = "Team key" if self.is_team else str(self.user)
        return f"{owner}: {limits(self.monthly_tokens, self.monthly_cost)}"

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
    is_team = models.BooleanField(_("team key"), default=False)
    month = models.DateField(_("month"))
    tokens = models.PositiveBigIntegerField(_("tokens"), default=0)
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=6, default=Decimal(0))

    class Meta:
        verbose_name = _("monthly spend")
        verbose_name_plural = _("monthly spend")
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
        for _attempt in range(2):
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
    def add_for(cls, month: dt.date, tokens: int, cost: Decimal, user_id: int, team: bool) -> None:
        """Count a request against the user's month and, when the team key paid, the team's too: one
        UPDATE for both rows once they exist (`add` creates a missing one)."""
        scope = (
            Q(is_team=False, user_id=user_id) | Q(is_team=True) if team else Q(is_team=False, user_id=user_id)
        )
        rows = cls.objects.filter(scope, month=month)
        expected = 2 if team else 1
        try:
            with transaction.atomic():
                if rows.update(tokens=F("tokens") + tokens, cost=F("cost") + cost) == expected:
                    return
                raise _RowMissing  # undoes the partial count
        except _RowMissing:
            pass
        # A row is missing (a month's first request): count each row on its own, creating it.
        cls.add(month, tokens, cost, user_id=user_id)
        if team:
            cls.add(month, tokens, cost)

    @classmethod
    def of(cls, month: dt.date, user=None) -> Spend | None:
        if user is None:
            return cls.objects.filter(month=month, is_team=True).first()
        return cls.objects.filter(month=month, is_team=False, user=user).first()


class _RowMissing(Exception):
    """Spend.add_for found fewer rows than it counts: undo and count them one by one."""


class Reservation(models.Model):
    """Tokens and cost held for one request in flight, so that parallel sends cannot pass a budget."""

    # A row per request rather than a counter on Spend: a reply's row counts only while its message
    # streams (its end, or the recovery of a dead process's reply, deletes it in the commit that counts
    # the spending), a title request's only until `expires`. Whatever dies, no budget stays held.

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.BooleanField(default=False, help_text="Paid with the team key: held of its budget too")
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tokens = models.PositiveBigIntegerField()
    cost = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))
    expires = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tokens} tokens held for {self.user}"

    @classmethod
    def live(cls, now: dt.datetime | None = None) -> models.QuerySet:
        """The reservations that count: of a reply still streaming, or not yet expired."""
        return cls.objects.filter(Q(message__isnull=True) | Q(message__status="streaming")).filter(
            Q(expires__isnull=True) | Q(expires__gt=now or timezone.now())
        )


@dataclass(frozen=True)
class Hold:
    """A reservation made: its row, and the output tokens the request may ask for."""

    pk: int
    output_tokens: int


class OverBudget(Exception):
    """No room for the request in a budget: `whose` ("your", "the team's") and when it resets."""

    def __init__(self, whose: str, resets: dt.date) -> None:
        super().__init__(whose)
        self.whose = whose
        self.resets = resets


def user_budget(user_id: int) -> Budget | None:
    """The member's own budget row, from the send facts (chat/models/freshness.py)."""
    return freshness.cached(("budget", user_id), lambda: Budget.objects.filter(user_id=user_id).first())


def team_budget() -> Budget | None:
    """The team's budget row, from the send facts."""
    return freshness.cached(("team budget",), lambda: Budget.objects.filter(is_team=True).first())


def limited(user_id: int, via_team_key: bool) -> bool:
    """Whether a budget with a limit counts this user's requests (the send facts say; lock's rule)."""
    with freshness.snapshot():
        applying = [user_budget(user_id), team_budget() if via_team_key else None]
    return any(budget and (budget.monthly_tokens or budget.monthly_cost) for budget in applying)


def lock(user_id: int, via_team_key: bool) -> list[Budget]:
    """Lock the budgets (with a limit) that count this user's request, always in the same order; none
    to lock (and no query) when the send facts say no budget with a limit applies."""
    # Reserving and counting queue up on these rows (PostgreSQL row locks); a statement run after the
    # lock sees every reservation and spending committed by those before.
    if not limited(user_id, via_team_key):
        return []
    applies = Q(user_id=user_id) | Q(is_team=True) if via_team_key else Q(user_id=user_id)
    budgets = Budget.objects.select_for_update().filter(applies).order_by("pk")
    return [budget for budget in budgets if budget.monthly_tokens or budget.monthly_cost]


def reserve(
    user_id: int,
    via_team_key: bool,
    input_tokens: int,
    max_output: int,
    prices: tuple[Decimal | None, Decimal | None],
    *,
    min_output: int = MIN_REPLY_OUTPUT,
    message_id: int | None = None,
    expires: dt.datetime | None = None,
) -> Hold | None:
    """Hold the most a request may spend, its output shrunk to what fits; None when no budget applies."""
    # Refused (OverBudget) when not even `min_output` tokens of output fit. The output held is also the
    # limit the request carries, so that the reply cannot write past it.
    if not limited(user_id, via_team_key):
        return None  # no savepoint, no lock: nothing to hold
    now = timezone.now()
    month = month_start(now)
    input_price, output_price = (price or Decimal(0) for price in prices)
    input_cost = input_tokens * input_price / MILLION
    output = max_output
    with transaction.atomic():
        budgets = lock(user_id, via_team_key)
        if not budgets:
            return None
        for budget in budgets:
            scope = Q(is_team=True) if budget.is_team else Q(is_team=False, user_id=user_id)
            spent = Spend.objects.filter(scope, month=month).values("tokens", "cost").first()
            holders = Reservation.live(now).filter(Q(team=True) if budget.is_team else Q(user_id=user_id))
            held = holders.aggregate(
                tokens=Coalesce(Sum("tokens"), 0, output_field=models.BigIntegerField()),
                cost=Coalesce(Sum("cost"), Decimal(0), output_field=models.DecimalField()),
            )
            used_tokens = (spent["tokens"] if spent else 0) + held["tokens"]
            used_cost = (spent["cost"] if spent else Decimal(0)) + held["cost"]
            if budget.monthly_tokens:
                output = min(output, budget.monthly_tokens - used_tokens - input_tokens)
            if budget.monthly_cost:
                left = budget.monthly_cost - used_cost - input_cost
                if left <= 0:
                    output = -1
                elif output_price:
                    output = min(output, int(left * MILLION / output_price))
            if output < min_output:
                raise OverBudget("the team's" if budget.is_team else "your", next_month(month))
        cost = (input_cost + output * output_price / MILLION).quantize(Decimal("0.000001"), ROUND_UP)
        reservation = Reservation.objects.create(
            user_id=user_id,
            team=via_team_key,
            message_id=message_id,
            tokens=input_tokens + output,
            cost=cost,
            expires=expires,
        )
    return Hold(reservation.pk, output)


def release(*, message_id: int | None = None, pk: int | None = None) -> None:
    """Give back what a request held (its spending, if any, is counted by the caller in the same commit)."""
    if message_id is not None:
        Reservation.objects.filter(message_id=message_id).delete()
    if pk is not None:
        Reservation.objects.filter(pk=pk).delete()


def sweep() -> int:
    """Delete the reservations that no longer count: of replies ended some other way, or expired."""
    return Reservation.objects.exclude(pk__in=Reservation.live().values("pk")).delete()[0]
