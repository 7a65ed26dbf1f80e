"""The conversation's model settings in Debian's Chromium: only what the chosen model takes, rebuilt when
the model changes, saved with the system prompt, an effort the new model refuses shown as the one sent,
and the reply's meta saying what it was sent with; a new chat's settings set before its first message go
with it, and the meta still says them after a reload."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.conftest import chat_requests
from tests.e2e.pages import open_chat
from tests.e2e.test_browser import send_and_wait

SELECT = "select[name=model]"


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context, page = open_chat(browser, live.base_url, width=1440, height=900)
    yield page
    context.close()


def choose(page, name: str) -> None:
    page.locator(SELECT).select_option(name)  # dispatches change, as the picker does


def expect_efforts(page, values: list[str]) -> None:
    """The effort select offers exactly these values, once the panel has been rebuilt for the model."""
    page.wait_for_function(
        "(values) => JSON.stringify([...document.querySelectorAll('#parameter-effort option')]"
        ".map(o => o.value)) === values",
        arg=json.dumps(values, separators=(",", ":")),
        timeout=5_000,
    )


def test_the_panel_offers_what_each_model_takes_and_the_reply_says_what_it_was_sent_with(chat, fake_server):
    send_and_wait(chat, "Hello")  # a conversation to set
    chat.locator("#chat-settings > summary").click()
    fields = chat.locator("#model-settings")
    expect(fields).to_be_visible()
    temperature, effort = chat.locator("#parameter-temperature"), chat.locator("#parameter-effort")
    expect(temperature).to_be_visible()  # gpt-4.1
    expect(effort).to_be_hidden()
    choose(chat, "gpt-5")
    expect(temperature).to_be_hidden()
    expect_efforts(chat, ["", "minimal", "low", "medium", "high"])
    expect(effort.locator("option").first).to_have_text("Model default (medium)")
    choose(chat, "gpt-5.1")
    expect_efforts(chat, ["", "none", "low", "medium", "high"])
    choose(chat, "o3")
    expect(temperature).to_be_hidden()
    expect_efforts(chat, ["", "low", "medium", "high"])

    choose(chat, "gpt-5")
    effort.select_option("minimal")
    chat.locator("#parameter-max-tokens").fill("700")
    chat.locator("#conversation-settings button[type=submit]").click()
    expect(chat.locator("#chat-settings-status")).to_have_text("Saved: it applies from the next message.")
    choose(chat, "gpt-5.1")  # refuses minimal: the panel shows what goes instead
    expect(effort).to_have_value("low")
    expect(chat.locator("#model-settings-note")).to_contain_text("“low” is sent")
    chat.locator("#chat-settings > summary").click()

    send_and_wait(chat, "Again")
    body = chat_requests(fake_server)[-1].body
    assert (body["model"], body["reasoning_effort"], body["max_completion_tokens"]) == ("gpt-5.1", "low", 700)
    meta = chat.locator(".message-meta").last
    expect(meta).to_contain_text("effort low")
    expect(meta).to_contain_text("at most 700 tokens")
    assert chat.csp_violations == []


def test_a_new_chats_settings_go_with_its_first_message_and_stay_after_a_reload(chat, fake_server):
    chat.locator("#chat-settings > summary").click()
    expect(chat.locator("#model-settings")).to_be_visible()  # before the first message too
    choose(chat, "gpt-5")
    chat.locator("#parameter-effort").select_option("high")
    choose(chat, "gpt-4.1")  # takes no effort: the choice is kept for a model that does
    choose(chat, "gpt-5")
    expect(chat.locator("#parameter-effort")).to_have_value("high")
    chat.locator("#chat-settings > summary").click()

    send_and_wait(chat, "Hello")
    body = chat_requests(fake_server)[-1].body
    assert (body["model"], body["reasoning_effort"]) == ("gpt-5", "high")
    meta = chat.locator(".message-meta").last
    expect(meta).to_contain_text("effort high")

    chat.reload()
    meta = chat.locator(".message-meta").last
    expect(meta).to_contain_text("effort high")
    chat.locator("#chat-settings > summary").click()
    expect(chat.locator("#parameter-effort")).to_have_value("high")  # the conversation's own now
    assert chat.csp_violations == []


def test_a_setting_out_of_range_is_told_before_a_new_chat_is_sent(chat, fake_server):
    chat.locator("#chat-settings > summary").click()
    choose(chat, "gpt-4.1")
    chat.locator("#parameter-temperature").fill("5")
    chat.locator("#chat-settings > summary").click()
    chat.fill("textarea[name=content]", "Hello")
    chat.press("textarea[name=content]", "Enter")
    expect(chat.locator("#error-banner")).to_be_visible()
    expect(chat.locator("#error-text")).to_contain_text("Check the model settings")
    assert chat.evaluate("() => window.TokenOffChat.conversation") is None
    assert chat_requests(fake_server) == []
    expect(chat.locator("textarea[name=content]")).to_have_value("Hello")
