"""Issue 17, item 2, in Debian's Chromium: a project made in the sidebar, a chat dragged onto it (HTML5
drag and drop), another moved with its ⋯ menu's "Move to project…" (the keyboard's way), both filed on
the server and listed under the project."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    live.shell(
        "from django.contrib.auth.models import User\n"
        "owner = User.objects.get(username='alice')\n"
        "Project.objects.filter(owner=owner).delete()\n"
        "for title in ('Errand drag', 'Errand menu'):\n"
        "    Conversation.objects.create(owner=owner, model='gpt-4.1', title=title)\n"
    )
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    sign_in(page, live.base_url)
    page.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected", timeout=10_000)
    yield page
    context.close()


def project_of(live, title: str) -> str:
    code = f"c = Conversation.objects.get(title={title!r}); print(c.project.name if c.project else '-')"
    return live.shell(code).strip().splitlines()[-1]


def test_a_chat_moves_into_a_project_by_drag_and_drop_and_by_its_menu(chat, live, tmp_path):
    chat.click("[data-action=new-project]")
    chat.fill(".project-dialog input[name=name]", "Launch")
    chat.click(".project-dialog button[value=create]")
    project = chat.locator("#project-list [data-project]", has_text="Launch")
    expect(project).to_be_visible()

    # Drag and drop: the chat's link from the recent list onto the project's row.
    chat.locator("#sidebar-lists li[data-conversation] a", has_text="Errand drag").drag_to(
        project.locator(".project-toggle")
    )
    expect(project.locator("[data-project-chat]", has_text="Errand drag")).to_be_visible()
    assert project_of(live, "Errand drag") == "Launch"

    # The menu way, by keyboard: Shift+F10 on the item opens its ⋯ menu.
    item = chat.locator("#sidebar-lists li[data-conversation]", has_text="Errand menu")
    item.locator("a").focus()
    chat.keyboard.press("Shift+F10")
    chat.locator(".item-menu [data-item-action=project]").wait_for()
    chat.keyboard.press("End")  # Delete is last; Move to project… just before it
    chat.keyboard.press("ArrowUp")
    chat.keyboard.press("Enter")
    choice = chat.locator(".project-dialog .project-choice", has_text="Launch")
    expect(choice).to_be_visible()
    for scheme in ("light", "dark"):
        chat.emulate_media(color_scheme=scheme)
        chat.screenshot(path=str(tmp_path / f"projects-dialog-{scheme}.png"))
    choice.focus()
    chat.keyboard.press("Enter")
    expect(project.locator("[data-project-chat]", has_text="Errand menu")).to_be_visible()
    assert project_of(live, "Errand menu") == "Launch"
    for scheme in ("light", "dark"):
        chat.emulate_media(color_scheme=scheme)
        chat.screenshot(path=str(tmp_path / f"projects-sidebar-{scheme}.png"))
    chat.set_viewport_size({"width": 390, "height": 844})
    chat.click("[data-action=toggle-sidebar]")
    expect(project).to_be_visible()
    chat.screenshot(path=str(tmp_path / "projects-phone-dark.png"))


def test_a_reader_opens_a_shared_projects_chat_without_a_composer(browser, live, tmp_path):
    chat_id = live.shell(
        "from django.contrib.auth.models import Group, User\n"
        "alice, bob = User.objects.get(username='alice'), User.objects.get(username='bob')\n"
        "project = Project.objects.create(owner=alice, name='Shared launch', instructions='Be brief.')\n"
        "group, _ = Group.objects.get_or_create(name='launch readers')\n"
        "group.user_set.add(bob)\n"
        "ProjectShare.objects.create(project=project, group=group, role='reader')\n"
        "c = Conversation.objects.create(owner=alice, model='gpt-4.1', title='Shared plan',"
        " project=project)\n"
        "q = Message.objects.create(conversation=c, role='user', content='What ships first?')\n"
        "Message.objects.create(conversation=c, role='assistant', content='The lander.', parent=q)\n"
        "print(c.pk, project.pk)\n"
    ).split()
    conversation, project = chat_id[-2], chat_id[-1]
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    sign_in(page, live.base_url, "bob")
    page.goto(f"{live.base_url}/p/{project}/")
    expect(page.locator("main")).to_contain_text("you can read its chats")
    page.screenshot(path=str(tmp_path / "project-page-reader.png"))
    page.click(f"a[href='/c/{conversation}/']")
    expect(page.locator("#messages")).to_contain_text("The lander.")
    expect(page.locator("#composer")).to_be_hidden()
    expect(page.locator(".project-notice")).to_contain_text("Read-only")
    expect(page.locator("[data-message-action=edit]")).to_be_hidden()  # nor can a reader edit or rate
    expect(page.locator("[data-message-action=thumbs-up]")).to_be_hidden()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(tmp_path / f"reader-{scheme}.png"))
    context.close()
