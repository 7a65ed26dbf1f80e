"""The language switch and the time zone cookie in Debian's Chromium, against a live daphne."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.pages import sign_in

SHOTS = Path("/tmp/shots")


def test_the_switch_on_the_usage_page_turns_it_chinese(browser, live):
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="en-US", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    sign_in(page, live.base_url)
    page.goto(f"{live.base_url}/usage/")
    expect(page.locator("h1")).to_have_text("Your usage")
    # With JavaScript on, the switch's button is hidden: choosing is enough.
    expect(page.locator("form[data-language-switch] button.visually-hidden")).to_have_count(1)
    page.select_option("select[name=language]", "zh-hans")
    # Predicates as functions: a bare expression is evaluated with eval in the page, which the site's
    # CSP (no 'unsafe-eval') refuses whenever Playwright polls it (it failed so in CI once).
    page.wait_for_function("() => document.documentElement.lang === 'zh-hans'")
    expect(page).to_have_url(re.compile(r"/usage/$"))
    expect(page.locator("h1")).to_have_text("你的用量")
    # The catalogue is a deferred script: the new page's <html lang> is there before it has run.
    page.wait_for_function("() => typeof window.gettext === 'function'")
    assert [c["value"] for c in context.cookies() if c["name"] == "tz"] == ["Asia/Shanghai"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "i18n-usage-zh.png"), full_page=True)
    assert violations == []
    context.close()
