"""Copy that says the truth: money with its currency, the share used as it is, budgets in words, key
notices that fit the situation, and each flash message once."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.models import ApiKey, Conversation, Message, SiteSettings
from chat.models.budgets import Budget, Spend, month_start
from tests.conftest import CANARY_KEY
from tests.ws import connected, send_frame

pytestmark = pytest.mark.django_db


def reply(owner, prompt: int, completion: int, cost: str) -> Message:
    conversation = Conversation.objects.create(owner=owner, title="t", model="gpt-4.1")
    return Message.objects.create(
        conversation=conversation,
        role="assistant",
        model="gpt-4.1",
        content="x",
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost=Decimal(cost),
    )


def spend(tokens: int, cost: str = "0", user=None) -> None:
    Spend.add(month_start(timezone.now()), tokens, Decimal(cost), user_id=user.pk if user else None)


def set_self_service(on: bool) -> None:
    site = SiteSettings.current()
    site.self_service_keys = on
    site.save()


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


# ---- money and shares on the usage pages --------------------------------------------------------


def test_costs_show_the_currency_on_both_usage_pages(client, admin_user, settings):
    reply(admin_user, 100, 50, "0.0006")
    client.force_login(admin_user)
    for url in ("/usage/", "/usage/team/"):
        html = client.get(url).content.decode()
        assert "$0.0006" in html  # the table's cost column and the day chart's tooltip
        assert ", cost $0.0006" in html
    chinese = client.get("/usage/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="zh-hans"' in chinese and "$0.0006" in chinese  # the same in Chinese
    settings.TOKENOFF_CURRENCY = "EUR"
    html = client.get("/usage/").content.decode()
    assert "0.0006 EUR" in html and "$0.0006" not in html


def test_a_budget_past_its_limit_says_how_far_and_keeps_the_meter_full(client, admin_user):
    Budget.objects.create(user=admin_user, monthly_tokens=1000, monthly_cost=Decimal("2.00"))
    Budget.objects.create(is_team=True, monthly_tokens=10_000)
    spend(1680, "0.4321", user=admin_user)
    spend(16_800)
    client.force_login(admin_user)
    mine = client.get("/usage/").content.decode()
    assert "168 % used" in mine and "100 % used" not in mine
    assert "Limit: 1,000 tokens and $2.00 a month" in mine and "spent 1,680 tokens, $0.4321" in mine
    assert re.search(r'<rect class="fill"[^>]* width="100"', mine)  # the meter stops at its end
    team = client.get("/usage/team/").content.decode()
    assert "168 % used" in team and "Limit: 10,000 tokens a month" in team


def test_a_budget_under_its_limit_says_its_share(as_alice, alice):
    Budget.objects.create(user=alice, monthly_cost=Decimal("10.00"))
    spend(10, "2.5", user=alice)
    html = as_alice.get("/usage/").content.decode()
    assert "25 % used" in html and "Limit: $10.00 a month" in html and "spent 10 tokens, $2.50" in html
    assert re.search(r'<rect class="fill"[^>]* width="25"', html)


# ---- budgets in words ---------------------------------------------------------------------------


def test_a_budget_reads_in_words(alice, settings):
    assert str(Budget(user=alice, monthly_tokens=1000, monthly_cost=Decimal("12.50"))) == (
        "alice: 1,000 tokens and $12.50 a month"
    )
    assert str(Budget(user=alice, monthly_tokens=1)) == "alice: 1 token a month"
    assert str(Budget(is_team=True, monthly_cost=Decimal("5"))) == "Team key: $5.00 a month"
    # An empty or 0 limit is no limit, as share_used and reserve read it.
    assert str(Budget(is_team=True, monthly_tokens=0, monthly_cost=Decimal(0))) == "Team key: no limit"
    settings.TOKENOFF_CURRENCY = "EUR"
    assert str(Budget(is_team=True, monthly_cost=Decimal("1234.5"))) == "Team key: 1,234.50 EUR a month"


def test_the_admins_budget_list_says_limits_in_words(admin_client, alice):
    Budget.objects.create(user=alice, monthly_cost=Decimal("12.50"))
    Budget.objects.create(is_team=True, monthly_tokens=50_000)
    html = admin_client.get("/admin/chat/budget/").content.decode()
    assert "$12.50" in html and "50,000" in html and "no limit" in html
    assert "None" not in html and " cost " not in html


# ---- key notices --------------------------------------------------------------------------------


def test_demo_mode_does_not_say_chats_cannot_be_answered(as_alice, settings):
    settings.TOKENOFF_DEMO = True
    page = as_alice.get("/settings/").content.decode()
    assert "cannot be answered" not in page and "answered without a key" in page
    assert "cannot be answered" not in as_alice.get("/").content.decode()
    settings.TOKENOFF_DEMO = False
    assert "cannot be answered" in as_alice.get("/settings/").content.decode()


@pytest.mark.parametrize("self_service", [True, False])
def test_a_members_rejected_key_is_named_on_every_page_with_a_link_to_settings(as_alice, alice, self_service):
    set_self_service(self_service)
    key = ApiKey.store(CANARY_KEY, user=alice)
    assert "refused your API key" not in as_alice.get("/").content.decode()  # not tested yet
    ApiKey.objects.filter(pk=key.pk).update(check_result="rejected", check_detail="HTTP 401")
    for url in ("/", "/usage/"):
        html = as_alice.get(url).content.decode()
        assert f"TokenOff refused your API key {key.masked}" in html
        assert '<a href="/settings/">Settings</a>' in html
        assert ("Replace it in" in html) is self_service and ("Ask an admin" in html) is not self_service
    settings_page = as_alice.get("/settings/").content.decode()
    assert "refused your API key" not in settings_page  # the key card says it there, once
    assert "TokenOff refused this key" in settings_page


def test_a_team_keys_failed_check_is_not_a_members_notice(as_alice, team_key):
    ApiKey.objects.filter(pk=team_key.pk).update(check_result="rejected")
    assert "refused your API key" not in as_alice.get("/").content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    "self_service, advice",
    [
        (True, "Add your own key in Settings, or ask an admin for a team key."),
        (False, "Ask an admin to set one."),
    ],
)
async def test_the_no_key_error_says_what_the_member_can_do(alice, fake, self_service, advice):
    await sync_to_async(set_self_service)(self_service)
    socket = await connected(alice)
    await socket.send_json_to(send_frame("hi"))
    error = await socket.receive_json_from()
    assert error["code"] == "no_api_key"
    assert error["message"] == f"No TokenOff API key is set for you or for the team. {advice}"
    await socket.disconnect()


# ---- each flash message once --------------------------------------------------------------------


def test_testing_ones_key_says_the_outcome_once(as_alice, alice, fake):
    ApiKey.store(CANARY_KEY, user=alice)
    response = as_alice.post("/settings/key/test/", follow=True)
    detail = ApiKey.objects.get(user=alice).check_detail
    assert detail and response.content.decode().count(detail) == 1  # under the key, not in the flash too
    flashes = [str(message) for message in response.context["messages"]]
    assert flashes == [f"Tested sk-…{CANARY_KEY[-4:]}: ok."]
