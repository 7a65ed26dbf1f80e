"""Importing a ChatGPT export from the settings page in Debian's Chromium (issue 17, item 4): the upload
runs in the background on the live daphne, the progress is polled to the report, a reload shows the job
again, and the imported chat is in the sidebar with its branch on show."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in
from tests.imports import exports

SHOTS = [({"width": 1280, "height": 860}, "light"), ({"width": 390, "height": 844}, "dark")]


@pytest.mark.parametrize(("viewport", "scheme"), SHOTS, ids=["desktop-light", "phone-dark"])
def test_an_upload_is_imported_in_the_background_and_reported(live, browser, tmp_path, viewport, scheme):
    ident = f"browser-{viewport['width']}"
    broken = exports.simple(f"{ident}-broken", title="Broken tree")
    broken["mapping"]["u"]["parent"] = "gone"
    path = tmp_path / "export.zip"
    path.write_bytes(
        exports.as_zip({"conversations.json": exports.as_json([exports.branched(ident), broken])})
    )
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    try:
        sign_in(page, live.base_url)
        page.goto(f"{live.base_url}/settings/#imports")
        page.set_input_files("#import-file", str(path))
        page.click("#imports button[type=submit]")

        status = page.locator("[data-import-status]")
        expect(status).to_have_text("Imported 1, skipped 1.", timeout=15_000)
        expect(page.locator("[data-import-report] li")).to_have_text(
            ["Broken tree: malformed tree: the parent gone of a message is missing"]
        )
        expect(page.locator("#imports progress")).to_be_hidden()
        page.locator("#imports").screenshot(path=str(tmp_path / "imports.png"))
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"]

        page.reload()  # the page picks up the latest job again
        expect(status).to_have_text("Imported 1, skipped 1.")

        page.goto(f"{live.base_url}/")
        # The sidebar lists the imported chat (folded away on a phone): open it by its link.
        link = page.locator(".conversation-title", has_text="Monads").first.locator("xpath=ancestor::a[1]")
        page.goto(live.base_url + link.get_attribute("href"))
        expect(page.get_by_text("A pattern for chaining.")).to_be_visible()
    finally:
        context.close()
