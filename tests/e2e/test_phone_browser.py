"""The site on a phone (issue 14, item 4) in Debian's Chromium: no page wider than a 360 px screen, one
compact header, the account links in a drawer, the ⋯ panel of the chat header, notices that fold away."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import lock_out, locked_out, sign_in
from tests.e2e.review_seed import SUPERUSER
from tests.e2e.test_browser import send_and_wait
from tests.e2e.waits import transitions_done

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SMALL = {"width": 360, "height": 740}
PHONE = {"width": 390, "height": 844}
# The demo echoes it: a long title, a wide table and a long line of code come back rendered.
WIDE = """[fake:echo] A conversation whose title is long enough to be cut on any phone screen

| Model | Context window | Price per million tokens | Notes about the model |
|-------|---------------:|--------------------------|-----------------------|
| GPT-4.1 | 1M | low | a very long cell that keeps going and going and going |

```python
def greet(name: str) -> str:
    return f"Hello, {name}! A line of code far wider than any phone screen could ever show at once"
```

An_unbroken_word_that_is_much_longer_than_the_width_of_a_small_phone_screen_in_portrait_mode"""

# What sticks out on the right of the window, for the failure message.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wider = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 0.5) {
      const classes = el.classList.length ? "." + [...el.classList].join(".") : "";
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes;
      wider.push(name + " → " + Math.round(box.right) + "px");
    }
  }
  const html = document.documentElement.scrollWidth;
  return {html: html, body: document.body.scrollWidth, wider: wider.slice(0, 6)};
}"""


@pytest.fixture(scope="module")
def site(live, browser, fake_server):
    """Review's seed; ada (a superuser: review, team usage, the admin) with a key and a wide conversation;
    an invitation link; a locked-out name."""
    fake_server.reset()
    live.manage("shell", "-c", "from tests.e2e.review_seed import seed; seed()")
    live.manage("set_api_key", "--user", SUPERUSER[0], stdin="sk-ada-phone-key-1234\n")
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live.base_url, *SUPERUSER)
    send_and_wait(page, WIDE)
    page.wait_for_url("**/c/*/")
    live.wide_conversation = page.url.removeprefix(live.base_url)
    live.invitation = live.shell(
        "from django.contrib.auth.models import User\n"
        "from django.urls import reverse\n"
        "from django.utils.encoding import force_bytes\n"
        "from django.utils.http import urlsafe_base64_encode\n"
        "from chat.accounts.invitations import invitation_tokens\n"
        "ivy = User.objects.create_user('ivy-phone')\n"
        "uid = urlsafe_base64_encode(force_bytes(ivy.pk))\n"
        "print(reverse('invitation', kwargs={'uidb64': uid, 'token': invitation_tokens.make_token(ivy)}))\n"
    ).splitlines()[-1]
    ids = (
        live.shell(
            "from django.contrib.auth.models import User\n"
            f"conversation = Conversation.objects.get(pk={live.wide_conversation.split('/')[2]!r})\n"
            "print(conversation.pk, User.objects.get(username='alice').pk)\n"
        )
        .splitlines()[-1]
        .split()
    )
    live.review_transcript = f"/review/{ids[0]}/"
    live.alice_change = f"/admin/auth/user/{ids[1]}/change/"
    lock_out(page, live.base_url)
    context.close()
    return live


@pytest.fixture
def open_page(browser):
    contexts = []

    def new(viewport=PHONE, color_scheme="light"):
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text)
        )
        return page

    yield new
    for context in contexts:
        context.close()


def idle(page) -> None:
    page.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected")


def inside(box, viewport) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"]
        and box["y"] + box["height"] <= viewport["height"]
    )


def test_no_page_is_wider_than_a_360px_phone_in_either_theme(site, open_page):
    base = site.base_url
    wider = []

    def check(page, name: str, scheme: str) -> None:
        found = page.evaluate(OVERFLOW)
        if found["html"] > SMALL["width"] or found["body"] > SMALL["width"]:
            sizes = f"html {found['html']}px, body {found['body']}px"
            wider.append(f"{name} ({scheme}): {sizes}: {found['wider']}")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"phone-360-{name}-{scheme}.png"), full_page=True)

    for scheme in ("light", "dark"):
        visitor = open_page(SMALL, scheme)
        visitor.goto(f"{base}/accounts/login/")
        check(visitor, "login", scheme)
        visitor.goto(f"{base}{site.invitation}")
        visitor.locator("input[name=new_password1]").wait_for()
        check(visitor, "invitation", scheme)
        assert locked_out(visitor, site.base_url)
        check(visitor, "locked-out", scheme)

        page = open_page(SMALL, scheme)
        sign_in(page, base, *SUPERUSER)
        idle(page)
        check(page, "chat-new", scheme)
        page.goto(f"{base}{site.wide_conversation}")
        page.locator("[data-role=assistant] pre code.hljs").first.wait_for()
        idle(page)
        check(page, "chat-conversation", scheme)
        for name, path in [
            ("settings", "/settings/"),
            ("usage", "/usage/"),
            ("team-usage", "/usage/team/"),
            ("review-list", "/review/"),
            ("review-transcript", site.review_transcript),
            ("review-flags", "/review/flags/"),
            ("admin-index", "/admin/"),
            ("admin-change-list", "/admin/auth/user/"),
            ("admin-change-form", site.alice_change),
        ]:
            response = page.goto(f"{base}{path}")
            assert response.status == 200, path
            if name == "review-transcript":
                page.locator("[data-role=assistant]:not(.is-raw)").first.wait_for()
            check(page, name, scheme)
        assert visitor.csp_violations == [] and page.csp_violations == []
    assert not wider, "wider than a 360 px phone:\n" + "\n".join(wider)


def test_the_chat_header_is_one_row_whose_title_keeps_the_width_and_a_menu_holds_the_rest(site, open_page):
    page = open_page(PHONE)
    sign_in(page, site.base_url, *SUPERUSER)
    page.goto(f"{site.base_url}{site.wide_conversation}")
    idle(page)
    title = page.locator("#chat-title").bounding_box()
    topbar = page.locator(".topbar").bounding_box()
    # One header: the title sits in the top bar's row, and has most of the phone's width.
    assert title["y"] >= topbar["y"] and title["y"] + title["height"] <= topbar["y"] + topbar["height"]
    assert title["width"] >= 0.6 * PHONE["width"], title
    expect(page.locator(".topbar .account-menu")).to_be_hidden()
    exports = page.locator("#export-links")
    expect(exports.locator("a[data-export=json]")).to_be_hidden()
    expect(page.locator("#chat-settings > summary")).to_be_hidden()

    # The ⋯ button, from the keyboard: open, walk, open the system prompt, Escape twice.
    toggle = page.locator("#chat-tools-toggle")
    expect(toggle).to_have_attribute("aria-haspopup", "dialog")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#chat-tools")).to_have_attribute("role", "dialog")
    # The panel's first control is Share, then the exports and the system prompt.
    expect(page.locator("#share-button")).to_be_focused()
    page.keyboard.press("Tab")
    json_link = exports.locator("a[data-export=json]")
    expect(json_link).to_be_focused()
    conversation = site.wide_conversation.split("/")[2]
    assert json_link.get_attribute("href") == f"/c/{conversation}/export.json"
    assert exports.locator("a[data-export=md]").get_attribute("href") == f"/c/{conversation}/export.md"
    page.keyboard.press("Tab")
    expect(exports.locator("a[data-export=md]")).to_be_focused()
    page.keyboard.press("Tab")
    summary = page.locator("#chat-settings > summary")
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#system-prompt")).to_be_visible()
    page.locator("#system-prompt").focus()
    page.keyboard.press("Escape")  # the system prompt closes first
    expect(page.locator("#system-prompt")).to_be_hidden()
    expect(summary).to_be_focused()
    page.keyboard.press("Escape")  # then the panel, and the focus goes back to ⋯
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(summary).to_be_hidden()

    # A click outside closes it too.
    toggle.click()
    expect(summary).to_be_visible()
    page.mouse.click(PHONE["width"] // 2, PHONE["height"] // 2)
    expect(summary).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # A short title is not cut at all.
    page.goto(f"{site.base_url}/")
    assert page.evaluate("(t => t.scrollWidth <= t.clientWidth)(document.getElementById('chat-title'))")
    assert page.csp_violations == []


@pytest.mark.parametrize("width", [360, 820])
def test_the_system_prompt_panel_stays_inside_the_window(site, open_page, width):
    viewport = {"width": width, "height": 740}
    page = open_page(viewport)
    sign_in(page, site.base_url, *SUPERUSER)
    page.goto(f"{site.base_url}{site.wide_conversation}")
    idle(page)
    if width < 800:
        page.click("#chat-tools-toggle")
    page.click("#chat-settings > summary")
    form = page.locator("#conversation-settings")
    expect(page.locator("#system-prompt")).to_be_visible()
    box = form.bounding_box()
    assert inside(box, viewport), box
    panel = page.locator("#chat-tools").bounding_box()
    assert inside(panel, viewport), panel
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-system-prompt-{width}.png"))


def account_links_in(menu, viewport) -> None:
    for name in ("Settings", "Usage", "Team usage", "Review", "Admin", "Log out"):
        item = menu.get_by_role("link", name=name, exact=True).or_(menu.get_by_role("button", name=name))
        expect(item).to_be_visible()
        assert inside(item.bounding_box(), viewport), name
    for select in (menu.locator("select[name=language]"), menu.locator("select[data-theme-select]")):
        expect(select).to_be_visible()
        assert inside(select.bounding_box(), viewport)


def test_the_account_links_are_in_the_drawer_on_a_phone(site, open_page):
    page = open_page(PHONE)
    sign_in(page, site.base_url, *SUPERUSER)
    idle(page)
    expect(page.locator(".topbar a[href='/settings/']")).to_be_hidden()
    # The chat page: at the foot of the sidebar's drawer.
    page.click("[data-action=toggle-sidebar]")
    menu = page.locator(".sidebar .account-menu")
    expect(menu).to_be_visible()
    transitions_done(page)  # the drawer has slid in
    account_links_in(menu, PHONE)
    menu.locator("select[data-theme-select]").select_option("dark")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.keyboard.press("Escape")

    # A page without a sidebar: the top bar's menu button opens the same links as a drawer.
    page.goto(f"{site.base_url}/usage/")
    toggle = page.locator("[data-action=toggle-account-menu]")
    expect(page.locator("#account-menu")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    transitions_done(page)
    account_links_in(page.locator("#account-menu"), PHONE)
    expect(page.locator("#theme-select")).to_have_value("dark")
    expect(page.locator("#account-menu a").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(page.locator("#account-menu")).to_be_hidden()

    # On a wide screen they are the top bar's row again, with no menu button.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(toggle).to_be_hidden()
    expect(page.locator(".topbar a[href='/settings/']")).to_be_visible()
    assert page.csp_violations == []


def test_the_review_notice_is_one_line_on_a_phone_and_stays_closed_for_the_session(site, open_page):
    page = open_page(PHONE)
    sign_in(page, site.base_url, *SUPERUSER)
    idle(page)
    notice = page.locator("[data-review-notice]")
    text = notice.locator(".notice-text")
    expect(notice).to_be_visible()
    line = text.bounding_box()["height"]
    assert line < 24, line  # one line of 12 px text
    more = notice.locator("[data-action=expand-notice]")
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    assert text.bounding_box()["height"] > line  # the whole text, on several lines
    notice.locator("[data-action=dismiss-notice]").click()
    expect(notice).to_be_hidden()
    page.reload()
    idle(page)
    expect(notice).to_be_hidden()  # the same session
    assert page.evaluate("document.documentElement.dataset.noticesHidden") == "review"

    fresh = open_page(PHONE)  # a new session shows it again
    sign_in(fresh, site.base_url, *SUPERUSER)
    expect(fresh.locator("[data-review-notice]")).to_be_visible()
    assert page.csp_violations == []
