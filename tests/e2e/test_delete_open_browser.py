"""Deleting the open conversation: a new chat at once, one undo, no "Deleted" that did not happen."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in
from tests.e2e.test_browser import send, send_and_wait

SHOTS = Path("/tmp/shots")


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.dialogs = []  # a native dialog (confirm) must never appear: the undo toast is the one confirmation
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live.base_url)
    # The page's clock: the 6 s undo window (DELETE_DELAY_MS in sidebar.js) is passed by moving it on.
    page.clock.install()
    page.reload()
    yield page
    assert page.dialogs == []
    context.close()


def open_conversation(chat, text: str) -> str:
    send_and_wait(chat, text)
    return str(chat.evaluate("() => window.TokenOffChat.conversation"))


def delete_from_menu(chat, conversation: str) -> None:
    item = chat.locator(f'#sidebar-lists li[data-conversation="{conversation}"]')
    item.hover()
    item.locator("[data-action=item-menu]").click()
    chat.click("[data-item-action=delete]")


def shows_a_new_chat(chat, live, gone: str) -> None:
    chat.wait_for_url(f"{live.base_url}/")
    chat.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.conversation === null")
    assert chat.locator("[data-role=user], [data-role=assistant]").count() == 0
    expect(chat.locator("#empty-state")).to_be_visible()
    expect(chat.locator("#toast [data-action=undo]")).to_be_visible()
    expect(chat.locator(f'#sidebar-lists li[data-conversation="{gone}"]')).to_have_count(0)


def test_deleting_the_open_conversation_opens_a_new_chat_then_deletes_it(chat, live):
    first = open_conversation(chat, "[fake:chunks=2] about kangaroos")
    delete_from_menu(chat, first)
    shows_a_new_chat(chat, live, first)
    expect(chat.locator("#toast-text")).not_to_contain_text("Deleted")  # not yet: it can still be undone
    SHOTS.mkdir(exist_ok=True)
    chat.screenshot(path=str(SHOTS / "P-deleted-open.png"))

    send_and_wait(chat, "[fake:chunks=2] about wombats")  # within the undo window
    second = str(chat.evaluate("() => window.TokenOffChat.conversation"))
    assert second != first
    assert chat.url == f"{live.base_url}/c/{second}/"

    with chat.expect_response(lambda response: response.url.endswith(f"/c/{first}/delete/")) as deleted:
        chat.clock.fast_forward(6500)
    assert deleted.value.ok
    assert chat.request.get(f"{live.base_url}/c/{first}/").status == 404
    assert chat.request.get(f"{live.base_url}/c/{second}/").status == 200
    chat.reload()
    assert chat.locator(f'li[data-conversation="{first}"]').count() == 0
    assert "wombats" in chat.locator("[data-role=user]").first.inner_text()


def test_undo_brings_the_open_conversation_back_and_opens_it(chat, live):
    first = open_conversation(chat, "[fake:chunks=2] about platypuses")
    deletes = []
    chat.on("request", lambda r: r.url.endswith(f"/c/{first}/delete/") and deletes.append(r))
    delete_from_menu(chat, first)
    shows_a_new_chat(chat, live, first)
    chat.locator("#toast [data-action=undo]").click()
    chat.wait_for_url(f"{live.base_url}/c/{first}/")
    chat.wait_for_function(
        f"() => window.TokenOffChat && String(window.TokenOffChat.conversation) === '{first}'"
    )
    assert "platypuses" in chat.locator("[data-role=user]").first.inner_text()
    expect(chat.locator(f'#sidebar-lists li[data-conversation="{first}"] a')).to_have_attribute(
        "aria-current", "page"
    )
    chat.clock.fast_forward(6500)  # past the window: nothing is deleted
    chat.reload()
    assert chat.locator(f'li[data-conversation="{first}"]').count() == 1
    assert deletes == []
    assert chat.request.get(f"{live.base_url}/c/{first}/").status == 200


def test_a_refused_delete_comes_back_and_says_it_was_not_deleted(chat, live):
    # A slow reply still being written: the server refuses the delete (409) when it is sent.
    send(chat, "[fake:chunks=200] [fake:delay=0.05] a long story")
    chat.wait_for_function("() => window.TokenOffChat.streaming !== null", timeout=15_000)
    first = str(chat.evaluate("() => window.TokenOffChat.conversation"))
    delete_from_menu(chat, first)
    shows_a_new_chat(chat, live, first)
    with chat.expect_response(lambda response: response.url.endswith(f"/c/{first}/delete/")) as refused:
        chat.clock.fast_forward(6500)
    assert refused.value.status == 409
    expect(chat.locator(f'#sidebar-lists li[data-conversation="{first}"]')).to_have_count(1)
    expect(chat.locator("#toast")).to_be_visible()
    expect(chat.locator("#toast-text")).to_contain_text("was not deleted")
    expect(chat.locator("#toast [data-action=undo]")).to_be_hidden()
    SHOTS.mkdir(exist_ok=True)
    chat.screenshot(path=str(SHOTS / "P-refused.png"))
    assert chat.request.get(f"{live.base_url}/c/{first}/").status == 200
