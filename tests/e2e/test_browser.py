"""The chat page in Debian's Chromium, driven by Playwright, against a live daphne."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.content import HELLO
from tests.e2e.pages import sign_in
from tests.e2e.waits import loads_settled

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HOSTILE = (
    '[fake:echo] <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> '
    '<svg onload="window.__pwned = 3"><circle r=5></circle></svg> [click](javascript:window.__pwned=4) '
    '<a href="javascript:window.__pwned=5">link</a> <iframe src="javascript:window.__pwned=6"></iframe> '
    '<math><mi><style><img src=x onerror="window.__pwned=7"></style></mi></math> '
    '<noscript><p title="</noscript><img src=x onerror=window.__pwned=8>"></noscript> '
    "![pic](http://127.0.0.1:9/tracker.png)"
)


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(1, n + 1))


@pytest.fixture
def page(browser, live, fake_server):
    fake_server.reset()
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    page.on("dialog", lambda dialog: dialog.dismiss())
    sign_in(page, live.base_url)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "last-browser-test.png"))  # to look at when a test fails
    context.close()


def send(page, text: str) -> None:
    # As a person would: once the page is connected (with Redis the handshake takes a moment longer).
    page.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected", timeout=10_000)
    page.fill("textarea[name=content]", text)
    page.press("textarea[name=content]", "Enter")


def send_and_wait(page, text: str, timeout: int = 15_000) -> None:
    """Send, then wait until the new reply has ended (the stop button may only flash)."""
    replies = page.locator("[data-role=assistant]").count()
    send(page, text)
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-role=assistant]').length > {replies}"
        " && !window.TokenOffChat.streaming && window.TokenOffChat.pending === null",
        timeout=timeout,
    )


REPLY_TEXT = "(document.querySelector('[data-role=assistant]')?.innerText || '')"


def reply_longer_than(page, n: int, timeout: int = 10_000) -> None:
    page.wait_for_function(f"() => {REPLY_TEXT}.length > {n}", timeout=timeout)


def last_reply(page):
    return page.locator("[data-role=assistant]").last


def test_log_in_send_see_the_reply_rendered_reload_and_find_it(page, live):
    page.select_option("select[name=model]", "gpt-4o")
    send_and_wait(page, HELLO)
    reply = last_reply(page)
    reply.locator("pre code.hljs").wait_for(timeout=10_000)  # Markdown rendered, code highlighted
    assert "Hello" in page.locator("[data-role=user]").last.inner_text()
    assert reply.locator("li").count() >= 3 and reply.locator("strong").count() >= 1
    assert page.locator("textarea[name=content]").input_value() == ""
    assert page.url.startswith(f"{live.base_url}/c/")

    page.reload()
    reply = last_reply(page)
    reply.locator("pre code").wait_for(timeout=10_000)
    assert page.locator("select[name=model]").input_value() == "gpt-4o"
    assert page.locator("#conversation-list li").count() >= 1
    assert page.csp_violations == []


def test_a_reload_mid_reply_finds_it_still_growing(page):
    send(page, "[fake:chunks=150] [fake:delay=0.03]")
    page.locator("[data-action=stop]").wait_for(state="visible", timeout=10_000)
    reply_longer_than(page, 30)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-mid-reply.png"))
    page.reload()
    reply_longer_than(page, 0)
    reply_longer_than(page, len(last_reply(page).inner_text()))  # still growing after the reload
    page.wait_for_function(f"() => {REPLY_TEXT}.trim() === {json.dumps(words(150))}", timeout=15_000)


def test_stop_stops_at_once_and_keeps_what_arrived(page, live, fake_server):
    send(page, "[fake:chunks=400] [fake:delay=0.05]")
    stop = page.locator("[data-action=stop]")
    stop.wait_for(state="visible", timeout=10_000)
    reply_longer_than(page, 10)
    stop.click()
    stop.wait_for(state="hidden", timeout=2_000)
    kept = last_reply(page).inner_text().strip()
    assert kept.startswith("word1 word2") and kept != words(400)
    page.locator("[data-finish=stopped]").wait_for(timeout=2_000)
    request = next(r for r in fake_server.requests if r.body and r.body.get("stream"))
    assert fake_server.wait_for(lambda: request.client_closed, timeout=1)
    conversation = page.url.rstrip("/").rsplit("/", 1)[-1]
    saved = json.loads(page.request.get(f"{live.base_url}/c/{conversation}/export.json").text())
    assert saved["messages"][-1]["content"].strip() == kept
    assert saved["messages"][-1]["finish_reason"] == "stopped"


def test_shift_enter_makes_a_new_line_and_escape_stops(page):
    box = page.locator("textarea[name=content]")
    box.fill("line one")
    box.press("Shift+Enter")
    box.type("line two")
    assert box.input_value() == "line one\nline two"
    box.fill("[fake:chunks=400] [fake:delay=0.05]")
    box.press("Enter")
    page.locator("[data-action=stop]").wait_for(state="visible", timeout=10_000)
    page.keyboard.press("Escape")
    page.locator("[data-finish=stopped]").wait_for(timeout=3_000)


def test_a_reply_full_of_hostile_html_renders_inert(page):
    send_and_wait(page, HOSTILE)
    loads_settled(page)  # an onerror the reply planted would have run by now
    reply = last_reply(page)
    assert page.evaluate("() => window.__pwned") is None
    assert reply.locator("script, img, svg, iframe, math, style").count() == 0
    assert reply.locator("[onerror], [onload], [onclick]").count() == 0
    assert reply.locator("a[href^='javascript:' i]").count() == 0
    assert "tracker.png" in reply.inner_text()  # the image is shown as a link, not fetched
    page.reload()
    last_reply(page).wait_for()
    loads_settled(page)
    assert page.evaluate("() => window.__pwned") is None
    assert last_reply(page).locator("script, img, svg, iframe").count() == 0


def test_a_payload_split_across_deltas_stays_inert(page):
    # Five characters a chunk, 50 ms apart: every piece of the tag arrives in a delta of its own.
    send_and_wait(page, "[fake:echo] [fake:delay=0.05] <img src=x onerror=window.__pwned=9><b>bold</b>")
    reply = last_reply(page)
    assert reply.locator("b").inner_text() == "bold"
    assert page.evaluate("() => window.__pwned") is None
    assert reply.locator("img, [onerror]").count() == 0


def test_hostile_titles_labels_and_user_messages_stay_inert(page, live):
    label = "<img src=x onerror=window.__pwned=10>GPT"
    live.shell(f"ChatModel.objects.filter(name='gpt-4o-mini').update(label={label!r})")
    try:
        page.reload()
        send_and_wait(
            page, "<svg onload=window.__pwned=11></svg><script>window.__pwned=12</script> [fake:chunks=2]"
        )
        conversation = page.url.rstrip("/").rsplit("/", 1)[-1]
        title = "<img src=x onerror=window.__pwned=13>"
        live.shell(f"Conversation.objects.filter(pk={conversation}).update(title={title!r})")
        page.reload()
        last_reply(page).wait_for()
        loads_settled(page)
        assert page.evaluate("() => window.__pwned") is None
        injected = "#sidebar img, #sidebar svg, select img, [data-role=user] svg, [data-role=user] script"
        assert page.locator(injected).count() == 0
        assert title in page.locator("#sidebar").inner_text()
        assert label in page.locator("select[name=model]").inner_text()
        assert "<svg onload" in page.locator("[data-role=user]").last.inner_text()
    finally:
        live.shell("ChatModel.objects.filter(name='gpt-4o-mini').update(label='GPT-4o mini')")
