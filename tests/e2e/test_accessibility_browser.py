"""An axe-core audit of every page (chat page issue, "done means"), in Debian's Chromium: desktop and
phone, light and dark, no serious or critical violation. The failure message lists each one: the page,
the rule, its impact and the elements, with what fails on each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import audit, describe, require_axe
from tests.e2e.conftest import USERS
from tests.e2e.live import LiveSite
from tests.e2e.pages import lock_out, locked_out, sign_in
from tests.e2e.review_seed import SUPERUSER
from tests.e2e.test_browser import send_and_wait
from tests.e2e.waits import transitions_done

# The demo echoes a message (directives removed), so all of this comes back rendered in the reply.
MARKDOWN = """[fake:echo] A **table**, lists, code and math:

| Model | Context | Price | Reasoning | Vision | Released | Family | Served as |
|-------|--------:|-------|-----------|--------|----------|--------|-----------|
| GPT-4.1 | 1M | low | no | yes | 2025-04-14 | GPT-4.1 | gpt-4.1-2025-04-14 |
| o3 | 200k | high | yes | yes | 2025-04-16 | o-series | o3-2025-04-16 |

- one
- two

1. first
2. second

- [x] read the brief
- [ ] write the tests

Inline `code`, Euler $e^{i\\pi}+1=0$ and a display:

$$
\\int_0^1 x^2\\,dx = \\frac{1}{3}
$$

```python
def greet(name: str) -> str:
    \"\"\"Say hello.\"\"\"
    return f"Hello, {name}! {42 + 1}"  # a comment
```

```text
plain text, not highlighted
```

> A quote with [a link](https://example.com)."""

COMBINATIONS = {
    "desktop-light": {"viewport": {"width": 1440, "height": 900}, "color_scheme": "light"},
    "desktop-dark": {"viewport": {"width": 1440, "height": 900}, "color_scheme": "dark"},
    "phone-light": {"viewport": {"width": 390, "height": 844}, "color_scheme": "light"},
    "phone-dark": {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark"},
}
IDLE = "() => window.TokenOffChat && window.TokenOffChat.connected && !window.TokenOffChat.streaming"
# Set it to a directory to keep a screenshot of each page audited (to look at, not checked).
SHOTS = os.environ.get("TOKENOFF_A11Y_SHOTS")


# One daphne is enough here: what is audited is the pages, which the nginx variant serves the same.
@pytest.fixture(scope="module")
def live(fake_server, tmp_path_factory):
    site = LiveSite(tmp_path_factory.mktemp("live"), fake_server.base_url)
    site.create_user("alice", USERS["alice"], key="sk-alice-a11y-key-1234")
    site.base_url = site.start()
    yield site
    site.stop()


@pytest.fixture(scope="module")
def site(live, browser, fake_server):
    """The pages' data: review's seed, alice's conversation with every kind of content and a failed
    reply, a flag on it, her budget 85 % used (so a reply brings the budget notice), an invitation
    link, and a locked-out user."""
    require_axe()
    fake_server.reset()
    live.manage("shell", "-c", "from tests.e2e.review_seed import seed; seed()")
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live.base_url)
    send_and_wait(page, MARKDOWN)
    page.wait_for_url("**/c/*/")
    send_and_wait(page, "[fake:status=400] please fail")
    live.conversation = page.url.removeprefix(live.base_url)
    live.invitation = live.shell(
        "from django.contrib.auth.models import User\n"
        "from django.urls import reverse\n"
        "from django.utils.encoding import force_bytes\n"
        "from django.utils.http import urlsafe_base64_encode\n"
        "from chat.accounts.invitations import invitation_tokens\n"
        "ivy = User.objects.create_user('ivy')\n"
        "uid = urlsafe_base64_encode(force_bytes(ivy.pk))\n"
        "token = invitation_tokens.make_token(ivy)\n"
        "print(reverse('invitation', kwargs={'uidb64': uid, 'token': token}))\n"
    ).splitlines()[-1]  # the last line: the shell may say first what it imported
    ids = (
        live.shell(
            "from decimal import Decimal\n"
            "from django.contrib.auth.models import User\n"
            "from django.utils import timezone\n"
            "from chat.models.budgets import Budget, Spend, month_start\n"
            "from chat.models.flags import Flag\n"
            "alice, ada = User.objects.get(username='alice'), User.objects.get(username='ada')\n"
            "Budget.objects.create(user=alice, monthly_tokens=1_000_000)\n"
            "Spend.add(month_start(timezone.now()), 850_000, Decimal(0), user_id=alice.pk)\n"
            f"conversation = Conversation.objects.get(pk={live.conversation.split('/')[2]!r})\n"
            "Flag.objects.create(conversation=conversation, created_by=ada, note='Check the table')\n"
            "print(conversation.pk, alice.pk)\n"
        )
        .splitlines()[-1]
        .split()
    )
    live.review_transcript = f"/review/{ids[0]}/"
    live.alice_change = f"/admin/auth/user/{ids[1]}/change/"
    lock_out(page, live.base_url)
    context.close()
    return live


class Audit:
    """One combination's page, audited at each stop; every violation kept for the failure message."""

    def __init__(self, combination: str, page) -> None:
        self.combination = combination
        self.page = page
        self.lines: list[str] = []
        self.pages = 0

    def __call__(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state()
        transitions_done(page)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{self.combination}-{name}.png")
        self.lines += describe(f"{self.combination} {name} ({page.url})", audit(page))
        self.pages += 1

    def assert_clean(self, pages: int) -> None:
        if self.lines:
            pytest.fail("serious or critical axe-core violations:\n" + "\n".join(self.lines), pytrace=False)
        assert self.pages == pages


@pytest.fixture(params=list(COMBINATIONS))
def check(request, browser):
    """A browser context of the combination (size and colour scheme), and its audit, checked at the end."""
    context = browser.new_context(**COMBINATIONS[request.param])
    audit = Audit(request.param, context.new_page())
    yield audit
    context.close()


def test_the_pages_before_logging_in(site, check):
    page, base = check.page, site.base_url
    page.goto(f"{base}/accounts/login/")
    check("log-in")
    page.goto(f"{base}{site.invitation}")
    page.locator("input[name=new_password1]").wait_for()
    check("invitation")
    assert locked_out(page, site.base_url)
    check("locked-out")
    check.assert_clean(pages=3)


def test_a_members_chat_settings_and_usage(site, check):
    page, base = check.page, site.base_url
    sign_in(page, base)
    page.wait_for_function(IDLE)
    check("chat-new")
    page.goto(f"{base}{site.conversation}")
    reply = page.locator("article.message-assistant")
    expect(reply.first.locator("pre code.hljs").first).to_be_visible()
    expect(reply.first.locator("math").first).to_be_attached()
    expect(reply.locator(".message-error:not([hidden])")).to_have_count(1)
    page.wait_for_function(IDLE)
    check("chat-conversation")
    # What opens over the page: the model picker's list, and on a phone the conversations drawer.
    page.click("#model-picker-button")
    expect(page.locator("#model-picker-list")).to_be_visible()
    check("chat-model-picker-open")
    page.keyboard.press("Escape")
    expect(page.locator("#model-picker-list")).to_be_hidden()
    drawer = page.locator("[data-action=toggle-sidebar]")
    if drawer.is_visible():
        drawer.click()
        expect(drawer).to_have_attribute("aria-expanded", "true")
        check("chat-drawer-open")
        page.keyboard.press("Escape")
        expect(drawer).to_have_attribute("aria-expanded", "false")
    send_and_wait(page, "[fake:chunks=2] how much is left?")
    expect(page.locator("#budget-notice")).to_be_visible()
    check("chat-budget-notice")
    page.goto(f"{base}/settings/")
    check("settings")
    page.goto(f"{base}/usage/")
    check("usage")
    check.assert_clean(pages=7 if check.combination.startswith("phone") else 6)


def test_team_usage_review_and_the_admin(site, check):
    page, base = check.page, site.base_url
    sign_in(page, base, *SUPERUSER)
    for name, path in [
        ("team-usage", "/usage/team/"),
        ("review-list", "/review/"),
        ("review-transcript", site.review_transcript),
        ("review-flags", "/review/flags/"),
        ("admin-index", "/admin/"),
        ("admin-change-list", "/admin/chat/chatmodel/"),
        ("admin-change-form", site.alice_change),
    ]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        if name == "review-transcript":
            page.locator("[data-role=assistant]:not(.is-raw)").first.wait_for()
        check(name)
    check.assert_clean(pages=7)
