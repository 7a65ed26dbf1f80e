"""Share links in Chromium: alice makes a link from the chat page's dialog, bob opens it read-only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import open_chat, sign_in

SHOTS = Path(os.environ.get("TOKENOFF_SHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture
def shared_conversation(live) -> int:
    made = live.shell(
        "from django.contrib.auth.models import User\n"
        "alice = User.objects.get(username='alice')\n"
        "c = Conversation.objects.create(owner=alice, title='Lisbon in May', model='gpt-4o-mini')\n"
        "q = Message.objects.create(conversation=c, role='user', content='Where to eat in Lisbon?')\n"
        "a = Message.objects.create(conversation=c, role='assistant', parent=q, model='gpt-4o-mini',\n"
        "    content='Try **Time Out Market**.\\n\\n```python\\nprint(1)\\n```')\n"
        "c.leaf = a\n"
        "c.save()\n"
        "print(c.pk)"
    )
    return int(made.strip().splitlines()[-1])


def test_alice_shares_from_the_dialog_and_bob_reads_the_snapshot(browser, live, shared_conversation):
    context, page = open_chat(browser, live.base_url, f"/c/{shared_conversation}/")
    page.click("#share-button")
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-action="save-share"]')).to_have_text("Create link")
    dialog.locator('[data-action="save-share"]').click()
    expect(dialog.locator("[data-share-status]")).to_have_text("Link created.")
    url = dialog.locator("#share-url").input_value()
    assert url.startswith(f"{live.base_url}/s/")
    expect(dialog.locator('[data-action="save-share"]')).to_have_text("Update snapshot")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "share-dialog-desktop.png"))
    dialog.locator('[data-action="save-share"]').click()
    expect(dialog.locator("[data-share-status]")).to_contain_text("the link stays the same")
    assert dialog.locator("#share-url").input_value() == url
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#share-button")).to_be_focused()
    page.goto(f"{live.base_url}/shares/")
    expect(page.locator("[data-share-list] tbody tr")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "share-list-desktop.png"))
    assert page.csp_violations == []
    context.close()

    for name, viewport, scheme in [
        ("desktop-light", {"width": 1280, "height": 860}, "light"),
        ("phone-dark", {"width": 390, "height": 844}, "dark"),
    ]:
        bobs = browser.new_context(viewport=viewport, color_scheme=scheme)
        page = bobs.new_page()
        sign_in(page, live.base_url, "bob")
        page.goto(url)
        page.wait_for_function(
            "() => document.querySelector('[data-share-transcript]')?.dataset.rendered === 'true'"
        )
        expect(page.locator("h1")).to_have_text("Lisbon in May")
        expect(page.locator(".message-assistant strong")).to_have_text("Time Out Market")
        expect(page.locator("#composer")).to_have_count(0)
        page.screenshot(path=str(SHOTS / f"share-snapshot-{name}.png"), full_page=True)
        bobs.close()


def test_on_a_phone_the_dialog_revokes_and_the_link_stops_opening(browser, live, shared_conversation):
    context, page = open_chat(browser, live.base_url, f"/c/{shared_conversation}/", width=390, height=844)
    page.emulate_media(color_scheme="dark")
    page.click("#chat-tools-toggle")  # below 800 px the header's tools fold behind ⋯
    page.click("#share-button")
    dialog = page.locator("#share-dialog")
    dialog.locator('[data-action="save-share"]').click()
    expect(dialog.locator("[data-share-status]")).not_to_have_text("Saving…")
    url = dialog.locator("#share-url").input_value()
    page.screenshot(path=str(SHOTS / "share-dialog-phone-dark.png"))
    assert page.request.get(url).status == 200
    dialog.locator('[data-action="revoke-share"]').click()
    expect(dialog.locator("[data-share-status]")).to_have_text("Link revoked: it no longer opens.")
    expect(dialog.locator("[data-share-link]")).to_be_hidden()
    assert page.request.get(url).status == 404
    page.goto(f"{live.base_url}/shares/")
    expect(page.locator('[data-share-list] tr[data-state="revoked"]')).to_have_count(1)
    page.screenshot(path=str(SHOTS / "share-list-phone-dark.png"))
    context.close()
