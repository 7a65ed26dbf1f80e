"""Sign in with single sign-on in Chromium: the site's button, the provider's form, back into the chat."""

from __future__ import annotations

import pytest

from tests.idp.server import IdentityProvider, sso_site

PASSWORD = "directory-password-1"
SHOTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    provider = IdentityProvider(tmp_path_factory.mktemp("idp"))
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def site(idp, tmp_path_factory):
    live = sso_site(idp, tmp_path_factory.mktemp("sso-only"), OIDC_SSO_ONLY="1")
    yield live
    live.stop()


def test_sign_in_with_single_sign_on_opens_the_chat(browser, idp, site):
    idp.user("olga", PASSWORD, ["Reviewers"])
    context = browser.new_context(viewport=SHOTS["desktop"])
    page = context.new_page()
    try:
        page.goto(f"{site.base_url}/accounts/login/")
        page.get_by_role("link", name="Sign in with Example ID").click()
        page.wait_for_url(f"{idp.url}/login/**")
        page.fill("input[name=username]", "olga")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{site.base_url}/")
        page.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected", timeout=10_000)
    finally:
        context.close()


@pytest.mark.parametrize("shape", SHOTS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_sso_only_login_page_folds_the_administrators_form(browser, site, shape, scheme, tmp_path):
    context = browser.new_context(viewport=SHOTS[shape], color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(f"{site.base_url}/accounts/login/")
        button = page.get_by_role("link", name="Sign in with Example ID")
        assert button.is_visible()
        assert not page.locator("input[name=password]").is_visible()
        page.get_by_text("Administrator sign-in").click()
        assert page.locator("input[name=password]").is_visible()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= SHOTS[shape]["width"]
        page.screenshot(path=str(tmp_path / f"sso-only-{shape}-{scheme}.png"))
    finally:
        context.close()
