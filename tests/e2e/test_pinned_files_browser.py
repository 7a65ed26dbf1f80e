"""Issue 17's pinned files in Debian's Chromium: on a project's page its owner picks a document, it goes
up, is pinned and listed; removing it takes it off (and, used nowhere else, deletes it)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in


@pytest.fixture
def project_page(browser, live):
    pk = (
        live.shell(
            "from django.contrib.auth.models import User\n"
            "owner = User.objects.get(username='alice')\n"
            "Project.objects.filter(owner=owner, name='Pinned').delete()\n"
            "print(Project.objects.create(owner=owner, name='Pinned').pk)\n"
        )
        .strip()
        .splitlines()[-1]
    )
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    sign_in(page, live.base_url)
    page.goto(f"{live.base_url}/p/{pk}/")
    yield page, pk
    context.close()


def pinned_names(live, pk: str) -> str:
    code = f"print(sorted(Project.objects.get(pk={pk}).files.values_list('name', flat=True)))"
    return live.shell(code).strip().splitlines()[-1]


def test_the_owner_pins_a_document_and_removes_it(project_page, live, tmp_path):
    page, pk = project_page
    section = page.locator("[data-pinned-files]")
    expect(section.locator("li", has_text="No files yet.")).to_be_visible()
    notes = tmp_path / "brief.md"
    notes.write_text("# Brief\n\nShip on Friday.\n")
    section.locator("input[type=file]").set_input_files(str(notes))
    expect(section.locator("li", has_text="brief.md")).to_be_visible()
    assert pinned_names(live, pk) == "['brief.md']"
    for width, height in ((1280, 860), (390, 844)):
        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": width, "height": height})
            page.emulate_media(color_scheme=scheme)
            section.scroll_into_view_if_needed()
            section.screenshot(path=str(tmp_path / f"pinned-{width}-{scheme}.png"))
    section.get_by_role("button", name="Remove brief.md").click()
    expect(section.locator("li", has_text="No files yet.")).to_be_visible()
    assert pinned_names(live, pk) == "[]"
