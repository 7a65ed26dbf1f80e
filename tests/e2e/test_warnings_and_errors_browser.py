"""The chat page's warnings and failed replies in Debian's Chromium: the budget notice by the composer,
a rate limit's countdown, a failed reply's card (its reason in the page's language, Retry, kept across
a reload) and the estimated-usage marker."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import CANARY_KEY
from tests.e2e.pages import sign_in
from tests.e2e.test_browser import send, send_and_wait
from tests.e2e.waits import transitions_done

SHOTS = Path("/tmp/shots")
IDLE = "() => !window.TokenOffChat.streaming && window.TokenOffChat.pending === null"


def open_chat(browser, live, locale: str = "en-US", before_login=None):
    """A signed-in chat page of alice's in a new browser context with that language."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale=locale)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    if before_login is not None:
        before_login(page)
    sign_in(page, live.base_url)
    return context, page


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context, page = open_chat(browser, live)
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    transitions_done(page)
    page.screenshot(path=str(SHOTS / f"L-{name}.png"))


def last_reply(page):
    return page.locator("article.message-assistant").last


def gettext(page, text: str) -> str:
    return page.evaluate("(text) => window.gettext(text)", text)


# ---- the budget notice --------------------------------------------------------------------------


def set_alice_spend(live, tokens: int | None) -> None:
    """Give alice a budget of a million tokens with `tokens` of it used this month; None takes it away."""
    live.shell(
        "from decimal import Decimal\n"
        "from django.contrib.auth.models import User\n"
        "from django.utils import timezone\n"
        "from chat.models.budgets import Budget, Spend, month_start\n"
        "alice = User.objects.get(username='alice')\n"
        "Budget.objects.filter(user=alice).delete()\n"
        "Spend.objects.filter(user=alice).delete()\n"
        f"tokens = {tokens!r}\n"
        "if tokens is not None:\n"
        "    Budget.objects.create(user=alice, monthly_tokens=1_000_000)\n"
        "    Spend.add(month_start(timezone.now()), tokens, Decimal(0), user_id=alice.pk)\n"
    )


def test_the_budget_notice_shows_by_the_composer_with_its_reset_date_and_a_usage_link(chat, live):
    notice = chat.locator("#budget-notice")
    expect(notice).to_be_hidden()
    set_alice_spend(live, 850_000)
    try:
        send_and_wait(chat, "[fake:chunks=2] how much is left?")
    finally:
        set_alice_spend(live, None)
    expect(notice).to_be_visible()
    today = dt.datetime.now(dt.UTC).date()
    resets = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    expect(notice).to_contain_text("85%")
    expect(notice).to_contain_text(f"{resets:%B} 1, {resets.year}")
    link = notice.locator("a")
    expect(link).to_have_attribute("href", "/usage/")
    # Beside the composer, not a banner at the top of the page.
    assert chat.locator("#composer #budget-notice").count() == 1
    assert chat.locator("#error-banner").is_hidden()
    shot(chat, "budget-notice")
    # The next reply, with the budget gone, carries no notice: it goes.
    send_and_wait(chat, "[fake:chunks=2] and now?")
    expect(notice).to_be_hidden()
    assert chat.csp_violations == []


# ---- sending too fast ---------------------------------------------------------------------------


def answer_sends_with_rate_limited(page, retry_after: int) -> None:
    """The page's socket goes to the server as ever, but every `send` is answered as too fast."""

    def route(ws):
        server = ws.connect_to_server()

        def from_page(message):
            frame = json.loads(message)
            if frame.get("type") != "send":
                server.send(message)
                return
            refused = {
                "type": "error",
                "code": "rate_limited",
                "message": "Too many messages in a minute.",
                "id": frame["id"],
                "retry_after": retry_after,
            }
            ws.send(json.dumps(refused))

        ws.on_message(from_page)

    page.route_web_socket(re.compile(r"/ws/chat/$"), route)


def seconds_left(page) -> int:
    return int(re.search(r"(\d+) second", page.locator("#rate-notice").inner_text()).group(1))


def test_rate_limited_shows_a_countdown_that_runs_down_then_goes(browser, live, fake_server):
    def prepare(page):
        page.clock.install()  # the countdown's timers and Date are the page clock's, moved on below
        answer_sends_with_rate_limited(page, 30)

    context, page = open_chat(browser, live, before_login=prepare)
    try:
        send(page, "too fast?")
        countdown = page.locator("#rate-notice")
        expect(countdown).to_be_visible()
        expect(countdown).to_contain_text("You are sending messages too fast")
        first = seconds_left(page)
        assert 25 < first <= 30
        # The composer gives the text back, and the banner stays away.
        assert page.input_value("textarea[name=content]") == "too fast?"
        assert page.evaluate("() => window.TokenOffChat.pending") is None
        assert page.locator("#error-banner").is_hidden()
        shot(page, "rate-limited")

        page.clock.run_for(5_000)
        assert 0 < seconds_left(page) <= first - 5
        page.clock.run_for(30_000)
        expect(countdown).to_be_hidden()
        assert page.csp_violations == []
    finally:
        context.close()


# ---- a failed reply ---------------------------------------------------------------------------


def test_an_upstream_failure_shows_a_card_in_the_replys_place_and_keeps_it_across_a_reload(chat):
    send_and_wait(chat, "[fake:status=400] please fail")
    reply = last_reply(chat)
    card = reply.locator(".message-error")
    expect(card).to_be_visible()
    # Said in the page's words by the code: not the server's English message, not a banner.
    expect(card.locator(".message-error-text")).to_have_text("TokenOff could not write this reply.")
    assert "HTTP 400" not in card.inner_text()
    assert chat.locator("#error-banner").is_hidden()
    expect(card.locator("button.message-retry")).to_have_text("Retry")
    expect(reply.locator("[data-finish=error]")).to_have_text("Failed")
    # An empty failed reply: nothing to copy, nothing to rate, no second regenerate button.
    actions = reply.locator(".message-actions [data-message-action]")
    expect(actions).to_have_count(0)
    assert reply.get_attribute("data-error-code") == "upstream_error"
    assert "tokens" not in reply.locator(".message-meta").inner_text()  # it cost nothing
    shot(chat, "failed-card")

    chat.reload()
    reply = last_reply(chat)
    expect(reply.locator(".message-error-text")).to_have_text("TokenOff could not write this reply.")
    expect(reply.locator("button.message-retry")).to_be_visible()
    expect(reply.locator(".message-actions [data-message-action]")).to_have_count(0)
    assert reply.get_attribute("data-error-code") == "upstream_error"
    assert chat.csp_violations == []


def test_a_failure_with_partial_text_keeps_the_text_and_copy_with_the_card_under_it(chat):
    send_and_wait(chat, "[fake:chunks=6] [fake:cut=3] cut me off")
    reply = last_reply(chat)
    expect(reply.locator(".message-error")).to_be_visible()
    expect(reply.locator("[data-role=assistant]")).to_contain_text("word1 word2 word3")
    expect(reply.locator(".message-actions [data-message-action=copy]")).to_have_count(1)
    expect(reply.locator(".message-actions [data-message-action=regenerate]")).to_have_count(0)
    assert reply.get_attribute("data-error-code") == "upstream_unavailable"
    shot(chat, "failed-partial")


def set_alice_key(live, key: str) -> None:
    live.manage("set_api_key", "--user", "alice", stdin=key + "\n")


def test_retry_regenerates_a_failed_reply_and_succeeds(chat, live):
    set_alice_key(live, "sk-bad-key-for-the-retry-test")  # the fake upstream refuses it: upstream_auth
    try:
        send_and_wait(chat, "[fake:chunks=3] try me")
    finally:
        set_alice_key(live, CANARY_KEY)
    failed = last_reply(chat)
    expect(failed.locator(".message-error-text")).to_have_text(
        "TokenOff refused the API key. Ask an admin to check it."
    )
    failed_id = failed.get_attribute("data-wrapper-for")

    failed.locator("button.message-retry").click()
    chat.wait_for_function(
        f"() => !document.querySelector('[data-wrapper-for=\"{failed_id}\"]')"
        " && document.querySelectorAll('article.message-assistant').length === 1",
        timeout=15_000,
    )
    chat.wait_for_function(IDLE, timeout=15_000)
    reply = last_reply(chat)
    expect(reply.locator("[data-role=assistant]")).to_have_text("word1 word2 word3")
    expect(reply.locator(".message-error")).to_be_hidden()
    expect(reply.locator(".message-version-count")).to_have_text("2 / 2")
    assert chat.locator("[data-role=user]").count() == 1  # the question is not repeated
    expect(reply.locator("[data-message-action=copy]")).to_have_count(1)
    expect(reply.locator("[data-message-action=thumbs-up]")).to_have_count(1)
    assert chat.csp_violations == []


def test_the_card_speaks_the_pages_language_in_chinese(browser, live, fake_server):
    fake_server.reset()
    context, page = open_chat(browser, live, locale="zh-CN")  # Accept-Language: zh-CN
    try:
        assert page.evaluate("document.documentElement.lang") == "zh-hans"
        send_and_wait(page, "[fake:status=401] 你好")
        reply = last_reply(page)
        card = reply.locator(".message-error")
        expect(card).to_be_visible()
        expect(reply.locator("[data-finish=error]")).to_have_text("失败")
        # The sentence for the code from the page's own catalogue (the server's message is English).
        reason = gettext(page, "TokenOff refused the API key. Ask an admin to check it.")
        expect(card.locator(".message-error-text")).to_have_text(reason)
        expect(card.locator("button.message-retry")).to_have_text(gettext(page, "Retry"))
        assert "HTTP 401" not in card.inner_text()
        shot(page, "failed-card-zh")
        assert page.csp_violations == []
    finally:
        context.close()


# ---- estimated usage ----------------------------------------------------------------------------


def test_a_reply_without_the_upstreams_count_is_marked_estimated_also_after_a_reload(chat):
    send_and_wait(chat, "[fake:chunks=3] [fake:no_usage] count yourself")
    meta = last_reply(chat).locator(".message-meta")
    expect(meta).to_contain_text(re.compile(r"≈ [\d,]+ tokens \(estimated\)"))
    chat.reload()
    meta = last_reply(chat).locator(".message-meta")
    expect(meta).to_contain_text(re.compile(r"≈ [\d,]+ tokens \(estimated\)"))
    shot(chat, "estimated")
    # A reply the upstream counted carries no marker.
    send_and_wait(chat, "[fake:chunks=3] counted")
    counted = last_reply(chat).locator(".message-meta")
    expect(counted).to_contain_text("tokens")
    assert "estimated" not in counted.inner_text()
