"""The usage pages with a busy month's figures (issue 16, item 5) in Debian's Chromium: millions of tokens,
the cached and reasoning figures under them and a long model name fit a 360 px phone and a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in

SMALL = {"width": 360, "height": 740}
DESKTOP = {"width": 1440, "height": 900}
ADMIN = ("una", "una-live-password-1")
SEED = f"""
from django.contrib.auth.models import User
una = User.objects.create_superuser({ADMIN[0]!r}, password={ADMIN[1]!r})
people = [una, User.objects.create_user("bartholomew-the-very-long-named")]
for n, model in enumerate(["gpt-4.1-mini-2025-04-14", "o3", "gpt-5.1"]):
    for person in people:
        talk = Conversation.objects.create(owner=person, title="t", model=model)
        Message.objects.create(conversation=talk, role="assistant", model=model, content="x",
            prompt_tokens=98_765_432 - n, completion_tokens=9_876_543, cached_tokens=87_654_321,
            reasoning_tokens=8_765_432, cost="98765.432100")
"""


@pytest.fixture(scope="module")
def site(live):
    live.shell(SEED)
    return live


@pytest.fixture
def open_page(browser, site):
    contexts = []

    def new(viewport, color_scheme):
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, site.base_url, *ADMIN)
        return page

    yield new
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", [SMALL, DESKTOP], ids=["phone-360", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_busy_months_tables_fit_the_width_with_their_details(site, open_page, viewport, scheme):
    page = open_page(viewport, scheme)
    for path, tables in (("/usage/", 1), ("/usage/team/", 2)):
        page.goto(f"{site.base_url}{path}")
        expect(page.locator(".usage-table")).to_have_count(tables)
        cached = page.locator("[data-usage-cached]").first
        expect(cached).to_be_visible()
        expect(cached).to_contain_text("cached")
        expect(page.locator("[data-usage-reasoning]").first).to_contain_text("reasoning")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide in a {viewport['width']}px window"
        for table in page.locator(".usage-table").all():
            box = table.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (path, box)
        # On a phone each figure says which column it is; on a desktop the header row does.
        label = page.evaluate(
            "getComputedStyle(document.querySelector('.usage-table td[data-label]'), '::before').content"
        )
        header = page.locator(".usage-table thead th").first
        if viewport is SMALL:
            assert label == '"Replies"'
        else:
            assert label in ("none", "normal")
            expect(header).to_be_visible()
