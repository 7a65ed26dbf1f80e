"""The admin in the site's look: its top bar, its palette, and one theme switch shared with the site."""

from __future__ import annotations

import pytest

from tests.e2e.pages import sign_in

ADMIN = ("root", "root-live-password-1")
LIGHT_BG = "rgb(255, 255, 255)"  # --bg in chat.css, --body-bg in admin.css
DARK_BG = "rgb(22, 24, 29)"
DARK_SUBTLE_BG = "rgb(28, 31, 37)"  # --bg-subtle, --darkened-bg
DESKTOP = {"width": 1440, "height": 900}
NARROW = {"width": 360, "height": 740}
ADMIN_PAGES = [
    "/admin/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/chat/chatmodel/",
    "/admin/chat/apikey/",
    "/admin/chat/budget/",
    "/admin/chat/budget/add/",
    "/admin/chat/auditentry/",
    "/admin/password_change/",
]

# Whether <html data-theme> is already set when <body> begins, that is before anything is painted.
THEME_AT_FIRST_PAINT = """
new MutationObserver((changes, observer) => {
  if (!document.body) return;
  window.themeBeforeBody = document.documentElement.dataset.theme || "system";
  observer.disconnect();
}).observe(document, { childList: true, subtree: true });
"""


@pytest.fixture(scope="module")
def superuser(live):
    live.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser({ADMIN[0]!r}, 'root@example.com', {ADMIN[1]!r})",
    )
    return ADMIN


@pytest.fixture
def page(browser, live, superuser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.add_init_script(THEME_AT_FIRST_PAINT)
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    page.emulate_media(color_scheme="light")
    sign_in(page, live.base_url, *superuser)
    yield page
    context.close()


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_dark_chosen_on_the_site_is_the_admins_with_the_sites_header(page, live):
    page.select_option("#theme-select", "dark")  # the system is light
    assert background(page) == DARK_BG

    page.goto(f"{live.base_url}/admin/")
    assert page.evaluate("window.themeBeforeBody") == "dark"  # no flash of the light theme
    assert background(page) == DARK_BG
    assert page.evaluate("getComputedStyle(document.getElementById('header')).backgroundColor") == DARK_BG
    brand = page.locator("#header #site-name a.brand")
    assert brand.inner_text().startswith("TokenOff Chat")
    assert brand.locator(".brand-mark").is_visible()
    assert page.locator("#header a.back-to-chat").get_attribute("href") == "/"
    assert page.locator("#header #theme-select").input_value() == "dark"
    # The change list's filter and a change form's fields are dark too, not Django's white.
    page.goto(f"{live.base_url}/admin/auth/user/")
    sidebar = "getComputedStyle(document.getElementById('changelist-filter')).backgroundColor"
    assert page.evaluate(sidebar) == DARK_SUBTLE_BG
    page.goto(f"{live.base_url}/admin/chat/budget/add/")
    field = page.locator("#id_monthly_tokens")
    assert field.evaluate("e => getComputedStyle(e).backgroundColor") == DARK_BG
    assert page.csp_violations == []


def test_the_admins_theme_switch_and_the_sites_are_one(page, live):
    page.goto(f"{live.base_url}/admin/")
    assert page.locator(".theme-toggle").count() == 0  # Django's own toggle is not a second switch
    page.select_option("#theme-select", "dark")
    assert background(page) == DARK_BG
    assert page.evaluate("[localStorage.getItem('tokenoff-theme'), localStorage.getItem('theme')]") == [
        "dark",
        "dark",
    ]

    page.goto(f"{live.base_url}/")
    assert background(page) == DARK_BG
    assert page.locator("#theme-select").input_value() == "dark"
    page.select_option("#theme-select", "light")

    page.emulate_media(color_scheme="dark")  # the choice wins over the system
    page.goto(f"{live.base_url}/admin/chat/apikey/")
    assert page.evaluate("window.themeBeforeBody") == "light"
    assert background(page) == LIGHT_BG
    assert page.locator("#theme-select").input_value() == "light"

    page.select_option("#theme-select", "system")  # follows the system, here dark, at once
    assert background(page) == DARK_BG
    page.goto(f"{live.base_url}/")
    assert page.locator("#theme-select").input_value() == "system"
    assert background(page) == DARK_BG
    assert page.csp_violations == []


def test_no_admin_page_is_wider_than_a_small_phone(browser, live, superuser):
    """Django's own lists may scroll inside their box; the page itself never does, and the top bar
    holds all its links and switches."""
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    sign_in(page, live.base_url, *superuser)
    for path in ADMIN_PAGES:
        page.goto(f"{live.base_url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a 360 px screen"
        # The account's links and switches stay inside the screen: none cut off at the right.
        right = page.evaluate(
            "Math.max(...[...document.querySelectorAll('#header a, #header select, #header button')]"
            ".filter(e => e.offsetParent).map(e => e.getBoundingClientRect().right))"
        )
        assert right <= NARROW["width"], f"{path}: the header reaches {right}px"
        # The site's theme and language switches are there on a phone too, inside the top bar.
        header = page.locator("#header").bounding_box()
        for switch in ("#theme-select", "select[name=language]"):
            box = page.locator(f"#header {switch}").bounding_box()
            assert box and box["y"] + box["height"] <= header["y"] + header["height"], (path, switch)
    context.close()
