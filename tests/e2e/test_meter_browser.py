"""The token meter under the composer in Debian's Chromium: it counts as you type, follows the model
chosen (its context window) and each reply, shows the send's cost, and warns when the window is full."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import open_chat
from tests.e2e.test_browser import send_and_wait

METER = "#token-meter"


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context, page = open_chat(browser, live.base_url)
    yield page
    context.close()


def set_model(live, name: str, **fields) -> None:
    assignments = ", ".join(f"{field}={value!r}" for field, value in fields.items())
    live.shell(
        "from decimal import Decimal\n"
        "from chat.models import ChatModel\n"
        f"ChatModel.objects.filter(name={name!r}).update({assignments})\n"
    )


def choose(page, search: str) -> None:
    page.locator("#model-picker-button").click()
    page.keyboard.type(search)
    page.keyboard.press("Enter")


def test_the_meter_counts_as_you_type_and_follows_the_model_and_the_replies(chat, live):
    meter = chat.locator(METER)
    # A new chat with no system prompt and an empty draft: 3 to prime the reply, 3 + 1 for the draft.
    expect(meter).to_have_attribute("data-tokens", "7")
    expect(meter).to_contain_text("7 / 1,047,576 tokens")
    bar = meter.locator("[role=meter]")
    expect(bar).to_have_attribute("aria-valuemax", "1047576")

    chat.locator("#composer-input").fill("hello world")  # 2 tokens
    expect(meter).to_have_attribute("data-tokens", "9")
    expect(bar).to_have_attribute("aria-valuenow", "9")

    choose(chat, "gpt-4o")  # a smaller window
    expect(chat.locator("select[name=model]")).to_have_value("gpt-4o")
    expect(meter).to_contain_text("9 / 128,000 tokens")
    expect(bar).to_have_attribute("aria-valuemax", "128000")

    send_and_wait(chat, "[fake:chunks=2] hello world")
    # After the reply the branch is counted: the question and the reply are in what the next send sends.
    chat.wait_for_function("() => Number(document.getElementById('token-meter').dataset.tokens) > 20")
    assert chat.csp_violations == []


def test_the_meter_shows_the_cost_and_warns_when_the_window_is_full(chat, live):
    set_model(live, "gpt-4.1-nano", context_window=40, input_price="2")
    try:
        choose(chat, "4.1 nano")
        meter = chat.locator(METER)
        expect(meter).to_contain_text("7 / 40 tokens · ≈ $0.000014")
        expect(meter).not_to_have_class(re.compile("is-near|is-over"))
        chat.locator("#composer-input").fill(" ".join(["word"] * 30))  # 37 of 40
        expect(meter).to_have_class(re.compile("is-near"))
        chat.locator("#composer-input").fill(" ".join(["word"] * 60))  # 67 of 40
        expect(meter).to_have_class(re.compile("is-over"))
        expect(chat.locator("#live-region")).to_have_text(re.compile("no longer fits"))
    finally:
        set_model(live, "gpt-4.1-nano", context_window=1_047_576, input_price=None)
