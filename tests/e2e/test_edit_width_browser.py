"""The wide editor: editing a question opens a field as wide as the bubble may be, growing with its text."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in
from tests.e2e.test_browser import send_and_wait
from tests.e2e.waits import transitions_done

SHOTS = Path("/tmp/shots")
FIELD = ".edit-form textarea"

# The field, the question's article (the column a user bubble lives in) and the field's scroll sizes.
MEASURE = """() => {
  const field = document.querySelector('.edit-form textarea');
  const column = field.closest('article.message-user').getBoundingClientRect();
  const box = field.getBoundingClientRect();
  return {
    width: box.width, height: box.height, column: column.width,
    rem: parseFloat(getComputedStyle(document.documentElement).fontSize),
    scrollHeight: field.scrollHeight, clientHeight: field.clientHeight,
    scrollWidth: field.scrollWidth, clientWidth: field.clientWidth,
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    sign_in(page, live.base_url)
    yield page
    context.close()


def open_editor(page) -> dict:
    """Click Edit under the (only) question; return the bubble's width before, and the field's sizes."""
    question = page.locator("article.message-user").first
    bubble = question.locator(".message-body").bounding_box()["width"]
    question.locator("[data-message-action=edit]").click()
    expect(page.locator(FIELD)).to_be_focused()
    transitions_done(page)
    return {"bubble": bubble, **page.evaluate(MEASURE)}


def type_lines(page, n: int) -> dict:
    """Type n lines (Shift+Enter between them, which must not send); return the field's sizes."""
    for i in range(1, n + 1):
        page.keyboard.type(f"line {i} of the edited question")
        if i < n:
            page.keyboard.press("Shift+Enter")
    assert page.locator(FIELD).input_value().count("\n") == n - 1
    return page.evaluate(MEASURE)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        transitions_done(page)
        page.screenshot(path=str(SHOTS / f"q-{name}-{scheme}.png"))
    page.emulate_media(color_scheme="light")


def test_the_editor_is_as_wide_as_the_bubble_may_be_and_grows_with_its_text(chat):
    send_and_wait(chat, "[fake:chunks=1] hi")
    sizes = open_editor(chat)
    # The bubble's max width on a desktop: min(85 % of the column, 40rem).
    widest = min(0.85 * sizes["column"], 40 * sizes["rem"])
    assert sizes["width"] >= widest - 1, sizes
    assert sizes["width"] >= sizes["bubble"], sizes
    assert sizes["width"] <= sizes["column"] + 0.5, sizes
    grown = type_lines(chat, 8)
    assert grown["height"] > sizes["height"], (sizes, grown)
    assert grown["scrollHeight"] <= grown["clientHeight"] + 1, grown  # no inner scrollbar
    assert grown["scrollWidth"] <= grown["clientWidth"] + 1, grown
    shoot(chat, "desktop")

    # Esc cancels: the question is back as it was.
    chat.keyboard.press("Escape")
    expect(chat.locator(".edit-form")).to_have_count(0)
    expect(chat.locator("[data-role=user]").first).to_have_text("[fake:chunks=1] hi")

    # Enter saves and sends: a second version of the question.
    chat.locator("article.message-user").first.locator("[data-message-action=edit]").click()
    chat.fill(FIELD, "[fake:chunks=1] hi, edited")
    chat.press(FIELD, "Enter")
    expect(chat.locator(".edit-form")).to_have_count(0)
    expect(chat.locator("article.message-user .message-version-count").first).to_contain_text(
        "2", timeout=15_000
    )
    expect(chat.locator("[data-role=user]").first).to_have_text("[fake:chunks=1] hi, edited")
    assert chat.csp_violations == []


def test_the_editor_fills_a_phone_column_and_does_not_overflow_it(chat):
    send_and_wait(chat, "[fake:chunks=1] hi")
    chat.set_viewport_size({"width": 390, "height": 844})
    chat.reload()
    chat.locator("[data-role=user]").first.wait_for()
    transitions_done(chat)
    sizes = open_editor(chat)
    assert sizes["width"] >= 0.9 * sizes["column"], sizes
    assert sizes["width"] <= sizes["column"] + 0.5, sizes
    grown = type_lines(chat, 8)
    assert grown["height"] > sizes["height"], (sizes, grown)
    assert grown["scrollHeight"] <= grown["clientHeight"] + 1, grown
    assert grown["pageWidth"] <= 390, grown
    # A long unbroken word wraps inside the field rather than widening the page.
    chat.keyboard.press("Shift+Enter")
    chat.keyboard.type("x" * 120)
    assert chat.evaluate(MEASURE)["pageWidth"] <= 390
    shoot(chat, "phone")

    # Far more text than fits: the field stops at about half the screen and scrolls inside.
    chat.fill(FIELD, "\n".join(f"line {i}" for i in range(60)))
    chat.dispatch_event(FIELD, "input")
    tall = chat.evaluate(MEASURE)
    assert tall["height"] <= 0.5 * 844 + 1, tall
    assert tall["height"] >= 0.5 * 844 - 40, tall  # it did grow up to its limit
    assert tall["scrollHeight"] > tall["clientHeight"], tall
    assert chat.csp_violations == []
