"""Signing a browser page in to a live site, as a person would: the log-in form, then the chat."""

from __future__ import annotations

from tests.e2e.conftest import USERS


def sign_in(page, base_url: str, username: str = "alice", password: str | None = None) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or USERS[username])
    # The log-in form's own button: the language switch in the top bar has a submit button too.
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def open_chat(browser, base_url: str, path: str = "/", width: int = 1280, height: int = 860):
    """A new browser context signed in as alice on a chat page whose socket is connected; the page
    collects the Content Security Policy violations its console reports in `page.csp_violations`.
    The caller closes the context."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    sign_in(page, base_url)
    if path != "/":
        page.goto(f"{base_url}{path}")
    page.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected", timeout=10_000)
    return context, page


# A name nobody has, and a wrong password for it: django-axes locks the name after a few tries.
LOCKED = ("mallory", "not-the-password")


def locked_out(page, base_url: str) -> bool:
    """One wrong log-in as LOCKED; whether the page now says the name is locked out."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", LOCKED[0])
    page.fill("input[name=password]", LOCKED[1])
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")
    return page.locator("h1", has_text="Too many failed log-ins").count() == 1


def lock_out(page, base_url: str) -> None:
    """Fail to log in as LOCKED until django-axes locks the name (the locked-out page to audit)."""
    for _ in range(10):
        if locked_out(page, base_url):
            return
    raise AssertionError("django-axes never locked the name out")
