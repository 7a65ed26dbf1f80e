"""The review list records every page of results a search serves, whatever its cursor parameters say."""

from __future__ import annotations

import re

import pytest

from chat.models.audit import AuditEntry
from tests.review import data as review_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_plans(alice, settings):
    settings.TOKENOFF_REVIEW_PAGE_SIZE = 2
    return [review_data.conversation(alice, f"plan {n}", when=review_data.days_ago(n)) for n in range(5)]


def searches() -> list[str]:
    return list(AuditEntry.objects.filter(action="search").order_by("id").values_list("detail", flat=True))


def link(html: str, rel: str) -> str:
    return re.search(rf'rel="{rel}" href="\?([^"]+)"', html).group(1).replace("&amp;", "&")


def shown(html: str) -> list[str]:
    return re.findall(r'data-conversation="(\d+)"', html)


def test_every_page_of_a_search_is_recorded_with_the_page_it_served(client, reviewer, five_plans):
    client.force_login(reviewer)
    first = client.get("/review/?q=plan").content.decode()
    older = link(first, "next")
    second = client.get(f"/review/?{older}").content.decode()
    newer = link(second, "prev")
    client.get(f"/review/?{newer}")
    assert searches() == ["q=plan", older, newer]
    assert "after=" in older and "before=" in newer and shown(second) != shown(first)


@pytest.mark.parametrize(
    "cursor",
    [
        "after=x",
        "after=",
        "before=nonsense",
        "after=%C2%B2-1",  # a superscript two: isdigit() says yes, int() says no
        "after=1-%D9%A3",  # an Arabic-Indic three
        "after=1-99999999999999999999",  # past 2^63
        "after=99999999999999999999999999-1",  # past the last datetime
        "before=x&after=%00",
    ],
)
def test_a_bad_cursor_serves_the_first_page_and_is_recorded_as_the_first_page(
    client, reviewer, five_plans, cursor
):
    client.force_login(reviewer)
    first = client.get("/review/?q=plan")
    response = client.get(f"/review/?q=plan&{cursor}")
    assert response.status_code == 200
    assert shown(response.content.decode()) == shown(first.content.decode())
    assert searches() == ["q=plan", "q=plan"]


def test_a_newer_link_whose_rows_are_gone_serves_and_records_the_first_page(client, reviewer, five_plans):
    client.force_login(reviewer)
    older = link(client.get("/review/?q=plan").content.decode(), "next")
    newer = link(client.get(f"/review/?{older}").content.decode(), "prev")
    for conversation in five_plans[:2]:
        conversation.delete()  # the rows ahead of the newer link are gone
    response = client.get(f"/review/?{newer}")
    assert response.status_code == 200 and shown(response.content.decode())
    assert searches() == ["q=plan", older, "q=plan"]


def test_pages_without_a_search_are_not_recorded_whatever_their_cursor(client, reviewer, five_plans):
    client.force_login(reviewer)
    older = link(client.get("/review/").content.decode(), "next")
    client.get(f"/review/?{older}")
    client.get("/review/?after=x")
    assert not AuditEntry.objects.exists()
