"""Review in Chromium against a live daphne: the issue's "done" walk, the boundaries, hostile text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pages import sign_in
from tests.e2e.review_seed import PLAIN, REVIEWER, STAFF, SUPERUSER
from tests.e2e.waits import loads_settled

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROWS = ".review-row"


@pytest.fixture(scope="module")
def site(live):
    live.manage("shell", "-c", "from tests.e2e.review_seed import seed; seed()")
    return live


@pytest.fixture
def open_as(browser, site):
    contexts = []

    def log_in(who: tuple[str, str], **options):
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text)
        )
        sign_in(page, site.base_url, *who)
        return page

    yield log_in
    for context in contexts:
        context.close()


def row_titles(page) -> list[str]:
    return [t.strip() for t in page.locator(f"{ROWS} .review-row-title").all_inner_texts()]


def test_yesterdays_thumbs_down_for_one_model_in_three_clicks_read_flagged_and_in_the_trail(open_as, site):
    page = open_as(REVIEWER)
    page.click(".topbar a[href='/review/']")
    page.wait_for_url(f"{site.base_url}/review/")
    assert len(row_titles(page)) > 4

    page.click("[data-chip=yesterday]")  # 1
    page.wait_for_url("**until=**")
    page.click("[data-chip=thumbs-down]")  # 2
    page.wait_for_url("**feedback=down**")
    with page.expect_navigation():
        page.select_option("select[name=model]", "gpt-4o")  # 3: applies on change
    assert row_titles(page) == ["Offsite planning"]

    page.click("text=Offsite planning")
    reply = page.locator("[data-role=assistant]").first
    reply.locator("pre code.hljs").wait_for()  # rendered by render.js, as on the chat page
    assert reply.locator("ol li").count() == 2 and reply.locator("strong").inner_text() == "Book"
    assert page.locator(".review-feedback.is-down").inner_text().count("Forgot the budget") == 1
    assert "served gpt-4o-2024-11-20" in page.locator(".review-meta").last.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-transcript.png"), full_page=True)

    page.fill("textarea[name=note]", "Budget missing from the plan")
    page.click("[data-action=flag]")
    page.locator(".flag.is-open").wait_for()
    assert "Budget missing from the plan" in page.locator(".flag.is-open").inner_text()
    page.click("text=← Back to the list")
    assert row_titles(page) == ["Offsite planning"]  # the list as it was left
    page.click(".review-nav >> text=Flagged")
    assert "Budget missing from the plan" in page.locator(".flag-row").inner_text()
    assert page.csp_violations == []

    admin = open_as(SUPERUSER)
    admin.goto(f"{site.base_url}/admin/chat/auditentry/")
    trail = admin.locator("#result_list").inner_text()
    assert "rita\topened the transcript" in trail and "rita\tflagged" in trail
    assert "Budget missing from the plan" in trail


@pytest.mark.parametrize("who", [PLAIN, STAFF])
def test_a_plain_user_or_staff_without_the_permission_gets_nothing(open_as, site, who):
    page = open_as(who)
    assert page.locator("a[href='/review/']").count() == 0
    for path in ("/review/", "/review/1/", "/review/flags/", "/review/?q=plan"):
        response = page.goto(f"{site.base_url}{path}")
        assert response.status == 403
        assert "Offsite planning" not in page.content() and "Review is for reviewers" in page.content()


def test_hostile_html_in_titles_text_and_replies_stays_inert(open_as, site):
    page = open_as(REVIEWER)
    page.goto(f"{site.base_url}/review/?outcome=error")
    assert page.evaluate("() => window.__pwned") is None
    page.locator(f"{ROWS} .review-row-title", has_text="window.__pwned").click()
    page.locator("[data-role=assistant]:not(.is-raw)").wait_for()
    loads_settled(page)  # an onerror the transcript planted would have run by now
    assert page.evaluate("() => window.__pwned") is None
    bodies = page.locator(".messages")
    assert bodies.locator("script, img, svg, iframe, math, style").count() == 0
    assert bodies.locator("[onerror], [onload], [onclick]").count() == 0
    assert bodies.locator("a[href^='javascript:' i]").count() == 0
    assert "window.__pwned" in page.locator("h1").inner_text()  # the title is shown as text
    assert page.csp_violations == []


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("light", {"color_scheme": "light"}),
        ("dark", {"color_scheme": "dark"}),
        ("phone", {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark"}),
    ],
)
def test_the_review_list_lays_out_in_light_dark_and_at_phone_width(open_as, site, name, options):
    page = open_as(REVIEWER, **options)
    page.goto(f"{site.base_url}/review/")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]  # nothing sticks out sideways
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"review-list-{name}.png"), full_page=True)
