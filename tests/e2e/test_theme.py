"""Light and dark themes in Debian's Chromium: the system's by default, or the one chosen in the top bar."""

from __future__ import annotations

import pytest

from tests.e2e.content import HELLO
from tests.e2e.pages import sign_in
from tests.e2e.test_browser import ARTIFACTS, send_and_wait
from tests.e2e.waits import transitions_done

LIGHT_BG = "rgb(255, 255, 255)"  # --bg in chat.css
DARK_BG = "rgb(22, 24, 29)"
LIGHT_CODE = "rgb(36, 41, 46)"  # .hljs in vendor/highlight/theme-light.min.css
DARK_CODE = "rgb(201, 209, 217)"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def new_page(browser, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def log_in(page, live) -> None:
    sign_in(page, live.base_url)


@pytest.fixture
def page(browser, live, fake_server):
    fake_server.reset()
    page = new_page(browser)
    page.emulate_media(color_scheme="dark")
    log_in(page, live)
    yield page
    page.context.close()


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def code_colour(page) -> str:
    return page.evaluate("getComputedStyle(document.querySelector('pre code.hljs')).color")


def choose(page, theme: str) -> None:
    page.select_option("#theme-select", theme)


def test_the_chat_follows_the_system_until_a_theme_is_chosen_and_keeps_the_choice(page):
    send_and_wait(page, HELLO)  # echoed back with highlighted code
    page.locator("pre code.hljs").first.wait_for()
    assert background(page) == DARK_BG and code_colour(page) == DARK_CODE
    assert page.evaluate("document.documentElement.dataset.theme") is None
    assert page.locator("#theme-select").input_value() == "system"

    choose(page, "light")
    assert background(page) == LIGHT_BG and code_colour(page) == LIGHT_CODE  # the system is still dark
    assert page.locator("meta[name=color-scheme]").get_attribute("content") == "light"
    assert page.evaluate("localStorage.getItem('theme')") == "light"  # what Django's admin switch reads

    page.reload()
    page.locator("pre code.hljs").first.wait_for()
    assert background(page) == LIGHT_BG and code_colour(page) == LIGHT_CODE
    assert page.locator("#theme-select").input_value() == "light"

    page.emulate_media(color_scheme="light")
    choose(page, "dark")
    assert background(page) == DARK_BG and code_colour(page) == DARK_CODE  # the system is light

    choose(page, "system")
    assert background(page) == LIGHT_BG and code_colour(page) == LIGHT_CODE
    page.emulate_media(color_scheme="dark")  # and follows it live, without a reload
    assert background(page) == DARK_BG and code_colour(page) == DARK_CODE
    page.reload()
    assert background(page) == DARK_BG
    assert page.evaluate("localStorage.getItem('tokenoff-theme')") == "system"
    assert page.csp_violations == []


def test_the_log_in_page_has_the_switch_too(browser, live):
    page = new_page(browser)
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live.base_url}/accounts/login/")
    assert background(page) == DARK_BG
    choose(page, "light")
    assert background(page) == LIGHT_BG
    page.reload()
    assert background(page) == LIGHT_BG
    assert page.csp_violations == []
    page.context.close()


PAGES = {"chat": "/", "settings": "/settings/", "usage": "/usage/", "login": "/accounts/login/"}


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_fits_the_screen_in_both_themes(browser, live, fake_server, size):
    """Nothing wider than the window; screenshots in test-artifacts/theme-*.png to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(browser, PHONE if size == "phone" else DESKTOP)
    log_in(page, live)
    send_and_wait(page, HELLO)
    chat_url = page.url
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for name, path in PAGES.items():
            if name == "login":
                page.context.clear_cookies()
            page.goto(chat_url if name == "chat" else f"{live.base_url}{path}")
            if name == "chat":
                page.locator("pre code.hljs").first.wait_for()
            shot = ARTIFACTS / f"theme-{name}-{size}-{theme}.png"
            page.screenshot(path=str(shot), full_page=name != "chat")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is {overflow}px wider than a {size} screen"
            if name == "chat" and size == "phone":
                page.click("[data-action=toggle-sidebar]")
                transitions_done(page)  # the drawer has slid in
                page.screenshot(path=str(ARTIFACTS / f"theme-chat-drawer-{theme}.png"))
        log_in(page, live)
    assert page.csp_violations == []
    page.context.close()
