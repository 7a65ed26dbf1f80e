"""A reply's own markup in Chromium: it keeps no data-*/aria-* hooks and drives none of the page's actions."""

from __future__ import annotations

import pytest

from tests.e2e.pages import sign_in
from tests.e2e.test_browser import send_and_wait

# What a model could write (echoed back by the fake upstream): look-alikes of the page's own controls.
HOSTILE = (
    "[fake:echo] "
    # No href: clicking a link would open a new tab, which is beside the point here.
    '<a data-message-action="thumbs-down" data-role="assistant" data-message="1">hostile-down</a> '
    '<a data-message-action="thumbs-up" id="messages">hostile-up</a> '
    '<span aria-pressed="true" data-message-action="copy">hostile-copy</span> '
    '<span data-action="stop" aria-label="Stop">hostile-stop</span> '
    '<button data-action="stop">hostile-button</button>\n\n'
    '```python\nprint("copy me")\n```\n'
)

# Attributes of the reply body's descendants, leaving out the code header render.js adds itself.
REPLY_ATTRIBUTES = """body => [...body.querySelectorAll('*')]
    .filter(node => !node.closest('.code-header'))
    .flatMap(node => [...node.attributes].map(a => a.name + '=' + a.value))"""


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.base_url)
    page = context.new_page()
    # Every text handed to the clipboard, recorded as the click runs (the writing itself is async).
    page.add_init_script(
        """window.copied = [];
        const write = navigator.clipboard.writeText.bind(navigator.clipboard);
        navigator.clipboard.writeText = (text) => { window.copied.push(text); return write(text); };"""
    )
    page.on("dialog", lambda dialog: dialog.dismiss())
    sign_in(page, live.base_url)
    yield page
    context.close()


def watch_feedback(page) -> list[str]:
    """The bodies of the feedback requests the page sends, in order."""
    posts: list[str] = []
    page.on("request", lambda r: "/feedback/" in r.url and posts.append(r.post_data or ""))
    return posts


def thumbs_up_for_real(page, reply, posts: list[str]) -> None:
    """The page's own thumbs-up, answered: every request clicked before it has been sent by then."""
    with page.expect_response(lambda r: "/feedback/" in r.url):
        reply.locator(".message-actions [data-message-action=thumbs-up]").click()
    assert posts == ["rating=1&comment="]  # only the page's own button sent any
    reply.locator(".message-actions [data-message-action=thumbs-up][aria-pressed=true]").wait_for()


def copy_code_for_real(page, reply, code: str) -> None:
    """The code block's own Copy button copies the code: the only copy the page makes."""
    reply.locator(".code-header .copy-code").click()
    assert page.evaluate("() => window.copied") == [code + "\n"]
    page.wait_for_function("code => navigator.clipboard.readText().then(t => t.includes(code))", arg=code)


def test_markup_in_a_reply_drives_no_page_action_and_keeps_no_hooks(chat, live):
    feedback_posts = watch_feedback(chat)
    send_and_wait(chat, HOSTILE)
    reply = chat.locator("article.message-assistant").last
    body = reply.locator(".message-body")
    body.locator("pre code").wait_for()
    message_id = body.get_attribute("data-message")

    for text in ("hostile-down", "hostile-up", "hostile-stop", "hostile-button", "hostile-copy"):
        body.get_by_text(text).click()
    thumbs_up_for_real(chat, reply, feedback_posts)
    assert chat.locator(".feedback-form").count() == 0  # a thumbs-down would have asked why
    ratings = live.shell(
        f"print(list(Feedback.objects.filter(message_id={message_id}).values_list('rating', flat=True)))"
    )
    assert ratings.strip().splitlines()[-1] == "[1]"  # after the shell's own banner

    assert chat.evaluate("() => window.copied") == []
    assert body.get_by_text("hostile-copy").inner_text() == "hostile-copy"  # never the page's "Copied"
    copy_code_for_real(chat, reply, 'print("copy me")')

    attributes = body.evaluate(REPLY_ATTRIBUTES)
    assert [a for a in attributes if a.startswith(("data-", "aria-"))] == []
    assert "id=messages" not in attributes  # ids get a prefix, so never clash with the page's own
    assert chat.locator("[data-message-action=thumbs-down]").count() == 1  # only the page's button
    assert chat.locator("#messages").count() == 1


def test_hooks_that_slipped_into_a_reply_still_do_nothing(chat):
    feedback_posts = watch_feedback(chat)
    send_and_wait(chat, '[fake:echo] Some code:\n\n```python\nprint("copy this too")\n```\n')
    reply = chat.locator("article.message-assistant").last
    body = reply.locator(".message-body")
    body.locator(".copy-code").wait_for()
    # As if the sanitizer had let them through: the page's own hooks, inside the reply's body.
    body.evaluate(
        """body => {
            const down = document.createElement("button");
            down.setAttribute("data-message-action", "thumbs-down");
            down.textContent = "slipped-down";
            const block = document.createElement("div");
            block.className = "code-block";
            const pre = document.createElement("pre");
            pre.textContent = "not the code";
            const copy = document.createElement("button");
            copy.className = "copy-code";
            copy.setAttribute("data-action", "copy");
            copy.textContent = "slipped-copy";
            block.append(copy, pre);
            body.prepend(down, block);
        }"""
    )
    body.get_by_text("slipped-down").click()
    body.get_by_text("slipped-copy").click()
    thumbs_up_for_real(chat, reply, feedback_posts)
    assert chat.locator(".feedback-form").count() == 0
    assert chat.evaluate("() => window.copied") == []  # not the slipped block's text
    copy_code_for_real(chat, reply, 'print("copy this too")')
