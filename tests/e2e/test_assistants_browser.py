"""Starting a chat from an assistant in Debian's Chromium: the gallery's "Start a chat" opens a new chat
with it chosen in the composer's picker, and the first request carries its model and system prompt; the
picker alone does the same, and goes once the chat has begun."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import chat_requests
from tests.e2e.pages import open_chat
from tests.e2e.test_browser import send_and_wait

SHOTS = "/tmp/assistants-shots"


def make_assistant(live, name: str, prompt: str, model: str) -> int:
    code = (
        "from django.contrib.auth import get_user_model\n"
        "alice = get_user_model().objects.get(username='alice')\n"
        f"a = Assistant(owner=alice, name={name!r}, icon='🦜', model={model!r}, system_prompt={prompt!r})\n"
        "a.save_version(alice)\n"
        "print(a.pk)\n"
    )
    return int(live.shell(code).strip().splitlines()[-1])


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context, page = open_chat(browser, live.base_url)
    yield page
    context.close()


def test_the_gallerys_start_button_opens_a_chat_that_starts_from_the_assistant(chat, live, fake_server):
    assistant = make_assistant(live, "Pirate", "Talk like a pirate.", "gpt-5")
    chat.goto(f"{live.base_url}/assistants/")
    item = chat.locator(f"[data-assistant='{assistant}']")
    expect(item).to_contain_text("Pirate")
    item.locator("[data-action=start-assistant]").click()
    chat.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected", timeout=10_000)
    picker = chat.locator("#assistant-picker")
    expect(picker).to_be_visible()
    expect(chat.locator("#assistant-select")).to_have_value(str(assistant))
    expect(chat.locator("select[name=model]")).to_have_value("gpt-5")
    send_and_wait(chat, "Ahoy?")
    body = chat_requests(fake_server)[-1].body
    assert body["model"] == "gpt-5"
    assert body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    expect(picker).to_be_hidden()  # the chat has begun: it keeps what it started with


def test_the_composers_picker_starts_a_new_chat_from_an_assistant(chat, live, fake_server):
    assistant = make_assistant(live, "Poet", "Answer in verse.", "gpt-4.1")
    chat.reload()
    chat.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected", timeout=10_000)
    chat.locator("#assistant-select").select_option(str(assistant))
    send_and_wait(chat, "The sea?")
    body = chat_requests(fake_server)[-1].body
    assert body["messages"][0] == {"role": "system", "content": "Answer in verse."}


@pytest.mark.parametrize(("width", "height", "theme"), [(1280, 860, "light"), (390, 844, "dark")])
def test_screenshots_of_the_gallery_and_the_picker(browser, live, width, height, theme, tmp_path):
    make_assistant(live, "Reviewer", "Review code.", "gpt-4.1")
    context, page = open_chat(browser, live.base_url, width=width, height=height)
    try:
        page.emulate_media(color_scheme=theme)
        page.goto(f"{live.base_url}/assistants/")
        page.screenshot(path=str(tmp_path / f"gallery-{width}-{theme}.png"), full_page=True)
        page.goto(f"{live.base_url}/?assistant=1")
        page.wait_for_function("() => !document.getElementById('assistant-picker').hidden", timeout=10_000)
        page.screenshot(path=str(tmp_path / f"picker-{width}-{theme}.png"))
        page.goto(f"{live.base_url}/assistants/new/")
        page.screenshot(path=str(tmp_path / f"form-{width}-{theme}.png"), full_page=True)
    finally:
        context.close()
