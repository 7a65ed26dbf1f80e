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
