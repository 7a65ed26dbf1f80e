"""The model picker in Debian's Chromium: a searchable menu (the ARIA listbox pattern) over the real
<select name="model">, in sync both ways; a send uses the model chosen; the reply's meta line shows the
catalogue's label with the served name in a tooltip; on a 360 px phone the menu stays on screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chat.demo.directives import SERVED_MODEL_SUFFIX
from tests.e2e.a11y import audit, describe, require_axe
from tests.e2e.pages import open_chat, sign_in
from tests.e2e.test_browser import send_and_wait
from tests.e2e.waits import transitions_done

BUTTON = "#model-picker-button"
POPUP = "#model-picker-popup"
SEARCH = "#model-picker-search"
SELECT = "select[name=model]"


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context, page = open_chat(browser, live.base_url)
    yield page
    context.close()


def active_option(page):
    """The option the search box's aria-activedescendant points at."""
    return page.locator("#" + page.locator(SEARCH).get_attribute("aria-activedescendant"))


def test_the_keyboard_opens_filters_and_chooses_and_a_send_uses_that_model(chat, fake_server):
    button = chat.locator(BUTTON)
    expect(button).to_have_attribute("aria-haspopup", "listbox")
    expect(button).to_have_text("GPT-4.1")
    button.focus()
    chat.keyboard.press("Enter")
    expect(chat.locator(POPUP)).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(chat.locator(SEARCH)).to_be_focused()

    chat.keyboard.type("4.1")  # type to filter: the three GPT-4.1 models, the first one active
    options = chat.locator("[role=listbox] [role=option]:visible")
    expect(options).to_have_count(3)
    expect(active_option(chat)).to_have_attribute("data-value", "gpt-4.1")
    chat.keyboard.press("ArrowDown")
    expect(active_option(chat)).to_have_attribute("data-value", "gpt-4.1-mini")
    chat.keyboard.press("End")
    expect(active_option(chat)).to_have_attribute("data-value", "gpt-4.1-nano")
    chat.keyboard.press("ArrowUp")
    chat.keyboard.press("Enter")

    expect(chat.locator(POPUP)).to_be_hidden()
    expect(button).to_be_focused()  # focus back on the button
    expect(button).to_have_text("GPT-4.1 mini")
    assert chat.locator(SELECT).input_value() == "gpt-4.1-mini"

    send_and_wait(chat, "[fake:chunks=2] hello")
    sent = [r.body["model"] for r in fake_server.requests if r.body and r.body.get("stream")]
    assert sent == ["gpt-4.1-mini"]
    assert chat.csp_violations == []


def test_escape_closes_and_returns_focus_and_groups_are_labelled(chat):
    chat.locator(BUTTON).click()
    expect(chat.locator(POPUP)).to_be_visible()
    groups = chat.locator("[role=listbox] > [role=group]")
    headings = [
        chat.locator("#" + groups.nth(i).get_attribute("aria-labelledby")).inner_text()
        for i in range(groups.count())
    ]
    assert headings[0] == "Team default" and "o-series" in headings and "Codex" in headings
    first = groups.first.locator("[role=option]")
    expect(first).to_have_attribute("aria-selected", "true")  # the current model, the default
    assert "Vision" in first.inner_text() and "Long context" in first.inner_text()
    chat.keyboard.press("Escape")
    expect(chat.locator(POPUP)).to_be_hidden()
    expect(chat.locator(BUTTON)).to_be_focused()


def test_a_click_chooses_and_select_option_updates_the_button(chat):
    chat.locator(BUTTON).click()
    chat.locator("[role=option][data-value=o3]").click()
    expect(chat.locator(BUTTON)).to_have_text("o3")
    assert chat.locator(SELECT).input_value() == "o3"

    chat.select_option(SELECT, "gpt-4o")  # as people's tools and the older tests do
    expect(chat.locator(BUTTON)).to_have_text("GPT-4o")
    chat.locator(BUTTON).click()
    expect(chat.locator("[role=option][aria-selected=true]")).to_have_attribute("data-value", "gpt-4o")


def test_the_reply_meta_shows_the_label_with_the_served_name_in_a_tooltip(chat):
    send_and_wait(chat, "[fake:chunks=2] hi")
    meta = chat.locator("article.message-assistant .meta-model").last
    expect(meta).to_have_text("GPT-4.1")
    expect(meta).to_have_attribute("title", f"Served by gpt-4.1{SERVED_MODEL_SUFFIX}")
    chat.reload()  # the server-rendered message says the same
    meta = chat.locator("article.message-assistant .meta-model").last
    expect(meta).to_have_text("GPT-4.1")
    expect(meta).to_have_attribute("title", f"Served by gpt-4.1{SERVED_MODEL_SUFFIX}")


def test_on_a_360_px_phone_the_menu_opens_upward_inside_the_viewport(browser, live):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live.base_url)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        page.locator(BUTTON).tap()
        popup = page.locator(POPUP)
        expect(popup).to_be_visible()
        box, bar = popup.bounding_box(), page.locator(".composer-box").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert box["y"] >= 0 and box["y"] + box["height"] <= bar["y"]  # above the composer
        listbox = page.locator("[role=listbox]")
        assert listbox.evaluate("el => el.scrollHeight > el.clientHeight")  # it scrolls inside
        assert page.evaluate("() => document.documentElement.scrollWidth") == width  # no overflow of its own
        page.locator("[role=option][data-value=gpt-5-nano]").tap()
        expect(page.locator(BUTTON)).to_have_text("GPT-5 nano")
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_open_menu_passes_an_axe_audit(browser, live, scheme):
    require_axe()
    context = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme=scheme)
    page = context.new_page()
    try:
        sign_in(page, live.base_url)
        page.locator(BUTTON).click()
        page.keyboard.type("o")
        page.keyboard.press("ArrowDown")
        expect(page.locator(POPUP)).to_be_visible()
        transitions_done(page)
        ours = [
            {**rule, "nodes": [n for n in rule["nodes"] if "model-" in n["target"]]} for rule in audit(page)
        ]
        ours = [rule for rule in ours if rule["nodes"]]  # the rest of the page has tests of its own
        assert ours == [], "\n".join(describe(f"the open model picker ({scheme})", ours))
    finally:
        context.close()
