"""Amounts of money in the prices' currency (TOKENOFF_CURRENCY), and a budget's limits in words."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Currencies written with a sign before the number; any other code follows it ("1.23 EUR").
SIGNS = {"USD": "$"}


def money(amount: Decimal | float | int | None, places: int = 2) -> str:
    """In the prices' currency: "$1.23" for USD, "1.23 EUR" for another; an em dash for none."""
    if amount is None:
        return "—"
    currency = settings.TOKENOFF_CURRENCY
    number = f"{Decimal(amount):,.{places}f}"
    sign = SIGNS.get(currency)
    if sign is None:
        return f"{number} {currency}"
    return f"-{sign}{number[1:]}" if number.startswith("-") else f"{sign}{number}"


def spent(amount: Decimal | None) -> str:
    """A sum spent: to the cent, or to four places below one unit, so that a small sum does not read 0.00."""
    if amount is None:
        return money(None)
    return money(amount, 2 if amount == 0 or abs(amount) >= 1 else 4)


def limits(tokens: int | None, cost: Decimal | None) -> str:
    """A monthly limit in words: "1,000 tokens and $12.50 a month", or "no limit" (0 is no limit too)."""
    words = []
    if tokens:
        words.append(ngettext("%(tokens)s token", "%(tokens)s tokens", tokens) % {"tokens": f"{tokens:,}"})
    if cost:
        words.append(money(cost))
    if not words:
        return _("no limit")
    if len(words) == 1:
        return _("%(limit)s a month") % {"limit": words[0]}
    return _("%(tokens)s and %(cost)s a month") % {"tokens": words[0], "cost": words[1]}
