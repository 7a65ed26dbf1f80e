"""Issue #14, item 6, in Debian's Chromium: the sidebar's fixed head, its ⋯ menu near the bottom, the
"Archived" heading only when something is archived, one tab stop for the list, and focus rings of 3:1."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import AXE, require_axe
from tests.e2e.pages import sign_in
from tests.e2e.waits import transitions_done

DESKTOP = {"width": 1440, "height": 900}
ITEMS = "#sidebar-lists li[data-conversation]"
# The last control before the list: the projects' "+" (no project yet), after the search field.
BEFORE_LIST = "#projects [data-action=new-project]"
FOCUSED_ITEM = "() => document.activeElement.closest('li[data-conversation]')?.dataset.conversation || null"


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    sign_in(page, live.base_url)
    yield page
    context.close()


def add_conversations(live, count: int, prefix: str) -> None:
    """`count` conversations of alice's, the last one the newest, a day apart at most."""
    live.shell(
        "import datetime\n"
        "from django.contrib.auth.models import User\n"
        "from django.utils import timezone\n"
        "owner = User.objects.get(username='alice')\n"
        "now = timezone.now()\n"
        "Conversation.objects.bulk_create([Conversation(owner=owner, model='gpt-4.1',"
        f" title=f'{prefix} {{i}}', updated=now - datetime.timedelta(minutes={count} - i))"
        f" for i in range({count})])\n"
    )


def open_menu(page, item) -> None:
    item.hover()
    item.locator("[data-action=item-menu]").click()
    page.locator(".item-menu").wait_for()


def test_archived_is_offered_only_while_something_is_archived(chat, live):
    add_conversations(live, 3, "Errand")
    chat.reload()
    heading = chat.locator("#archived-heading")
    expect(heading).to_be_hidden()  # nothing archived yet

    item = chat.locator(ITEMS, has_text="Errand 1")
    open_menu(chat, item)
    chat.click("[data-item-action=archive]")
    expect(item).to_have_count(0)
    expect(heading).to_be_visible()
    chat.reload()
    expect(heading).to_be_visible()  # the server's word, after a reload

    chat.click("[data-action=toggle-archived]")
    archived = chat.locator("#archived-list li[data-conversation]", has_text="Errand 1")
    open_menu(chat, archived)
    chat.click("[data-item-action=archive]")  # "Unarchive": the last archived one
    expect(chat.locator(ITEMS, has_text="Errand 1")).to_have_count(1)
    expect(heading).to_be_hidden()
    chat.reload()
    expect(heading).to_be_hidden()
    assert chat.csp_violations == []


def test_the_head_stays_and_the_last_menu_opens_upward_inside_the_window(chat, live):
    add_conversations(live, 60, "Scroll")
    listed = "print(Conversation.objects.filter(owner__username='alice', archived=False).count())"
    shown = int(live.shell(listed).split()[-1])  # (the shell's own notice comes first)
    chat.reload()
    region = chat.locator("#conversation-nav")
    # Down to the end, every page loaded (50 first, then the rest on scroll).
    chat.wait_for_function(
        "() => { const r = document.getElementById('conversation-nav'); r.scrollTop = r.scrollHeight;"
        f" return document.querySelectorAll('{ITEMS}').length >= {shown}; }}",
        polling=100,
    )
    region.evaluate("r => { r.scrollTop = r.scrollHeight; }")
    assert region.evaluate("r => r.scrollTop") > 500
    aside = chat.locator("#sidebar").bounding_box()
    for head in (chat.locator(".new-chat"), chat.locator("#conversation-search")):
        box = head.bounding_box()
        assert aside["y"] <= box["y"] and box["y"] + box["height"] <= region.bounding_box()["y"] + 1
        expect(head).to_be_in_viewport()

    last = chat.locator(ITEMS).last
    open_menu(chat, last)
    menu = chat.locator(".item-menu")
    box, item_box, region_box = menu.bounding_box(), last.bounding_box(), region.bounding_box()
    assert box["y"] + box["height"] <= item_box["y"] + 1  # above its item
    assert box["y"] >= region_box["y"] and box["y"] + box["height"] <= region_box["y"] + region_box["height"]
    assert box["y"] + box["height"] <= DESKTOP["height"]
    expect(menu.locator("[role=menuitem]").last).to_be_in_viewport()
    # And the first item's opens below it, as before.
    chat.keyboard.press("Escape")
    region.evaluate("r => { r.scrollTop = 0; }")
    first = chat.locator(ITEMS).first
    open_menu(chat, first)
    assert menu.bounding_box()["y"] >= first.bounding_box()["y"] + first.bounding_box()["height"] - 1


def test_one_tab_stop_for_the_list_arrows_home_end_enter_and_shift_f10(chat, live):
    add_conversations(live, 4, "Keys")
    chat.reload()
    ids = chat.locator(ITEMS).evaluate_all("items => items.map(i => i.dataset.conversation)")
    assert chat.locator("#conversation-nav a[tabindex='0']").count() == 1
    assert chat.locator("#conversation-nav [data-action=item-menu]:not([tabindex='-1'])").count() == 0

    chat.focus(BEFORE_LIST)
    chat.keyboard.press("Tab")
    assert chat.evaluate(FOCUSED_ITEM) == ids[0]  # into the list, at its first (no conversation is open)
    chat.keyboard.press("Tab")
    assert chat.evaluate(FOCUSED_ITEM) is None  # and out of it with the next Tab
    chat.keyboard.press("Shift+Tab")
    assert chat.evaluate(FOCUSED_ITEM) == ids[0]

    chat.keyboard.press("ArrowDown")
    chat.keyboard.press("ArrowDown")
    assert chat.evaluate(FOCUSED_ITEM) == ids[2]
    chat.keyboard.press("ArrowUp")
    assert chat.evaluate(FOCUSED_ITEM) == ids[1]
    chat.keyboard.press("End")
    assert chat.evaluate(FOCUSED_ITEM) == ids[-1]
    chat.keyboard.press("Home")
    assert chat.evaluate(FOCUSED_ITEM) == ids[0]
    chat.keyboard.press("ArrowDown")
    # The stop moved with the focus: Tab out and back comes to the same item.
    chat.keyboard.press("Shift+Tab")
    chat.keyboard.press("Tab")
    assert chat.evaluate(FOCUSED_ITEM) == ids[1]
    assert chat.locator("#conversation-nav a[tabindex='0']").count() == 1

    chat.keyboard.press("Shift+F10")
    menu = chat.locator(".item-menu")
    expect(menu).to_be_visible()
    assert chat.evaluate("() => document.activeElement.dataset.itemAction") == "rename"
    assert chat.evaluate(FOCUSED_ITEM) == ids[1]  # the focused item's menu
    chat.keyboard.press("ArrowDown")
    assert chat.evaluate("() => document.activeElement.dataset.itemAction") == "pin"
    chat.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    assert chat.evaluate("() => document.activeElement.matches('li[data-conversation] > a')")
    assert chat.evaluate(FOCUSED_ITEM) == ids[1]

    # Rename from the keyboard still works, and gives the focus back to the item.
    chat.keyboard.press("Shift+F10")
    chat.keyboard.press("Enter")
    chat.keyboard.press("Control+a")
    chat.keyboard.type("Renamed by keys")
    chat.keyboard.press("Enter")
    expect(chat.locator(f'{ITEMS}[data-conversation="{ids[1]}"]')).to_contain_text("Renamed by keys")
    assert chat.evaluate(FOCUSED_ITEM) == ids[1]

    chat.keyboard.press("Enter")  # opens it
    chat.wait_for_url(f"{live.base_url}/c/{ids[1]}/")
    chat.focus(BEFORE_LIST)
    chat.keyboard.press("Tab")
    assert chat.evaluate(FOCUSED_ITEM) == ids[1]  # the open conversation is the stop
    assert chat.csp_violations == []


# The focused element's indicator and its contrast with the background beside it (focus_ring.js).
_INDICATOR = (Path(__file__).parent / "focus_ring.js").read_text()


def focus_rings(page, limit: int = 120) -> list[dict]:
    """Tab round the whole page once (past its end, on from its start): each element's indicator."""
    seen, found = set(), []
    for _ in range(limit):
        page.keyboard.press("Tab")
        key = page.evaluate(
            "() => { const e = document.activeElement; return e === document.body ? null :"
            " e.outerHTML.slice(0, 200); }"
        )
        if key in seen:
            break
        if key is not None:  # the document itself, between the last element and the first
            seen.add(key)
            transitions_done(page)  # a ring that fades in (the composer's) at its full colour
            found.append(page.evaluate(_INDICATOR))
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_focus_ring_on_the_chat_page_has_three_to_one(chat, live, scheme):
    add_conversations(live, 2, f"Ring {scheme}")
    chat.emulate_media(color_scheme=scheme)
    chat.reload()
    rings = focus_rings(chat)
    assert len(rings) >= 8, rings  # the top bar, the sidebar's head, its list, the composer
    weak = [ring for ring in rings if ring["ratio"] < 3]
    assert weak == [], weak
    # The item menu's entries too (opened from the keyboard).
    chat.focus("#conversation-nav a[tabindex='0']")
    chat.keyboard.press("Shift+F10")
    for _ in range(4):
        ring = chat.evaluate(_INDICATOR)
        assert ring["ratio"] >= 3, ring
        chat.keyboard.press("ArrowDown")


_AXE_SIDEBAR = """async () => (await window.axe.run('#sidebar', {resultTypes: ['violations']})).violations
  .filter(rule => rule.impact === 'serious' || rule.impact === 'critical')
  .map(rule => ({id: rule.id, help: rule.help, nodes: rule.nodes.map(node => node.target.join(' '))}))"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_sidebar_passes_axe_with_its_groups_archive_menu_and_search(chat, live, scheme):
    require_axe()
    add_conversations(live, 3, f"Audit {scheme}")
    live.shell("c = Conversation.objects.order_by('-updated').first(); c.archived = True; c.save()")
    chat.emulate_media(color_scheme=scheme)
    chat.reload()
    chat.click("[data-action=toggle-archived]")
    chat.locator("#archived-list li[data-conversation]").first.wait_for()
    open_menu(chat, chat.locator(ITEMS).last)
    chat.evaluate(AXE.read_text(encoding="utf-8"))
    assert chat.evaluate(_AXE_SIDEBAR) == []
    chat.fill("#conversation-search", "Audit")
    chat.locator("#search-list li").first.wait_for()
    assert chat.evaluate(_AXE_SIDEBAR) == []
