"""Usage pages: each user's own month, and the team's dashboard for those allowed to see it."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from chat.lib import money
from chat.models import ApiKey
from chat.models.budgets import Budget, Spend, next_month
from chat.usage import reports

TEAM_PERMISSION = "chat.view_spend"


def _month(request: HttpRequest):
    return reports.parse_month(request.GET.get("month"), timezone.now().date())


def _month_links(month) -> dict:
    previous = (month.replace(day=1) - timezone.timedelta(days=1)).replace(day=1)
    following = next_month(month)
    return {
        "month": month,
        "previous_month": previous,
        "next_month": following if following <= timezone.now().date() else None,
    }


def _day_chart(month, days: list[reports.Row]) -> dict:
    """Columns of an SVG chart, 10 units a day and 100 high; an empty day keeps a hairline."""
    bars = []
    for index, row in enumerate(days):
        height = max(1.0, round(row.share * 96, 1))
        bars.append(
            {
                "row": row,
                "date": month + timezone.timedelta(days=index),
                "x": index * 10 + 2,
                "width": 6,
                "height": height,
                "y": round(100 - height, 1),
            }
        )
    return {"width": len(days) * 10, "bars": bars}


def _budget_line(budget: Budget | None, spend: Spend | None) -> dict | None:
    """What the page says of a budget: the share used as it is (168 % past the limit), the meter full."""
    if budget is None:
        return None
    percent = round(budget.share_used(spend) * 100)
    return {
        "budget": budget,
        "spend": spend,
        "percent": percent,
        "meter": min(100, percent),
        "limits": money.limits(budget.monthly_tokens, budget.monthly_cost),
        "spent_cost": money.spent(spend.cost) if spend and spend.cost else None,
    }


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    replies = reports.replies_in(month, request.user)
    key = ApiKey.objects.for_user(request.user)
    budgets = [_budget_line(Budget.objects.filter(user=request.user).first(), Spend.of(month, request.user))]
    if key is not None and key.is_team:
        budgets.append(_budget_line(Budget.objects.filter(is_team=True).first(), Spend.of(month)))
    context = {
        **_month_links(month),
        "models": reports.by_model(replies),
        "sources": reports.by_source(replies),
        "assistants": reports.by_assistant(replies),
        "day_chart": _day_chart(month, reports.by_day(replies, month)),
        "budgets": [line for line in budgets if line],
    }
    return render(request, "usage/mine.html", context)


def _team_only(request: HttpRequest) -> None:
    # Like someone else's conversation: those not allowed do not learn the page exists.
    if not request.user.has_perm(TEAM_PERMISSION):
        raise Http404


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    _team_only(request)
    month = _month(request)
    replies = reports.replies_in(month)
    context = {
        **_month_links(month),
        "people": reports.by_person(replies),
        "models": reports.by_model(replies),
        "sources": reports.by_source(replies),
        "assistants": reports.by_assistant(replies),
        "day_chart": _day_chart(month, reports.by_day(replies, month)),
        "team_budget": _budget_line(Budget.objects.filter(is_team=True).first(), Spend.of(month)),
    }
    return render(request, "usage/team.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def team_csv(request: HttpRequest) -> StreamingHttpResponse:
    _team_only(request)
    month = _month(request)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in reports.csv_rows(reports.replies_in(month))), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="tokenoff-usage-{month:%Y-%m}.csv"'
    return response
