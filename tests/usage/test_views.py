"""The usage pages: your own month, the team's dashboard for those allowed, and its CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from chat.models import Conversation, Message
from chat.models.budgets import Budget, Spend, month_start

pytestmark = pytest.mark.django_db


def reply(owner, model: str, prompt: int, completion: int, cost: str | None = None, estimated: bool = False):
    conversation = Conversation.objects.create(owner=owner, title="t", model=model)
    return Message.objects.create(
        conversation=conversation,
        role="assistant",
        model=model,
        content="x",
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost=Decimal(cost) if cost else None,
        usage_estimated=estimated,
    )


@pytest.fixture
def spending(alice, bob):
    reply(alice, "gpt-4.1", 100, 50, "0.0006")
    reply(alice, "o3", 10, 300, "0.0025", estimated=True)
    reply(bob, "gpt-4.1", 7000, 7000, "0.0700")


def test_a_user_sees_their_own_month_only(client, alice, spending):
    client.force_login(alice)
    html = client.get("/usage/").content.decode()
    assert "gpt-4.1" in html and "o3" in html
    assert "14,000" not in html  # bob's tokens
    assert "≈" in html  # the estimated reply is marked


def test_a_users_budget_shows_how_much_is_used(client, alice, spending):
    Budget.objects.create(user=alice, monthly_tokens=1000)
    Spend.add(month_start(timezone.now()), 460, Decimal(0), user_id=alice.pk)
    client.force_login(alice)
    html = client.get("/usage/").content.decode()
    assert "46 % used" in html and "Your monthly budget" in html


@pytest.mark.parametrize("who", ["plain", "staff_without_permission"])
def test_the_team_dashboard_is_not_found_for_others(client, alice, spending, who):
    if who == "staff_without_permission":
        alice.is_staff = True
        alice.save()
    client.force_login(alice)
    assert client.get("/usage/team/").status_code == 404
    assert client.get("/usage/team.csv").status_code == 404


def test_the_team_dashboard_shows_people_models_and_days(
    client, admin_user, spending, django_assert_max_num_queries
):
    client.force_login(admin_user)
    with django_assert_max_num_queries(12):
        html = client.get("/usage/team/").content.decode()
    assert "alice" in html and "bob" in html and "14,000" in html
    assert html.count('class="day-bar"') == 1 and "<svg" in html


def test_a_member_given_the_permission_sees_the_dashboard(client, alice, spending):
    alice.user_permissions.add(Permission.objects.get(codename="view_spend"))
    client.force_login(alice)
    assert client.get("/usage/team/").status_code == 200


def test_the_csv_has_a_line_per_day_person_and_model(client, admin_user, spending):
    client.force_login(admin_user)
    response = client.get(f"/usage/team.csv?month={timezone.now():%Y-%m}")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["date", "user", "model", "replies"]
    assert sorted((r[1], r[2], r[6]) for r in rows[1:]) == [
        ("alice", "gpt-4.1", "150"),
        ("alice", "o3", "310"),
        ("bob", "gpt-4.1", "14000"),
    ]


def test_another_month_is_empty_and_says_so(client, alice, spending):
    client.force_login(alice)
    assert "Nothing spent this month." in client.get("/usage/?month=2001-01").content.decode()
    assert client.get("/usage/?month=garbage").status_code == 200
