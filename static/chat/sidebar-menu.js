// The ⋯ menu of a conversation in the sidebar: Rename, Pin, Archive, Delete. It opens below its item,
// or above it when the list's visible region has no room below; arrows, Home and End move in it;
// Escape closes it and gives the focus back to the item, Tab closes it and goes on from the item.
import { _ } from "./util.js";

let open = null; // {menu, button, item, choose}

export const isMenuOpen = () => open !== null;

/** The item's link, its tab stop: the ⋯ button is out of the tab order (sidebar-keys.js). */
function focusItem(item, button) {
  const link = item.querySelector("a");
  (link && !link.hidden && link.isConnected ? link : button).focus();
}

export function closeMenu(returnFocus) {
  if (!open) return;
  const { menu, button, item } = open;
  open = null;
  menu.remove();
  button.setAttribute("aria-expanded", "false");
  if (returnFocus) focusItem(item, button);
}

/** The visible part of the element that scrolls the list: the sidebar's region, within the window. */
function visibleBounds(scroller) {
  const box = scroller ? scroller.getBoundingClientRect() : { top: 0, bottom: innerHeight };
  return { top: Math.max(box.top, 0), bottom: Math.min(box.bottom, innerHeight) };
}

/** Below the item when it fits there, else above when that side has more room; then kept in view. */
function position(menu, item) {
  const bounds = visibleBounds(item.closest(".sidebar-scroll"));
  const at = item.getBoundingClientRect();
  const height = menu.offsetHeight;
  const below = bounds.bottom - at.bottom;
  const above = at.top - bounds.top;
  menu.classList.toggle("is-above", height > below && above > below);
  if (height > Math.max(below, above)) menu.scrollIntoView({ block: "nearest" });
}

function onKeydown(event) {
  if (!open) return;
  const entries = Array.from(open.menu.querySelectorAll("button"));
  const at = entries.indexOf(document.activeElement);
  const to = {
    ArrowDown: entries[(at + 1) % entries.length],
    ArrowUp: entries[(at - 1 + entries.length) % entries.length],
    Home: entries[0],
    End: entries[entries.length - 1],
  }[event.key];
  if (to) {
    event.preventDefault();
    to.focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation(); // the page's Escape (the drawer, a reply's stop) is not for this
    closeMenu(true);
  } else if (event.key === "Tab") {
    closeMenu(true); // not prevented: the Tab goes on from the item, out of the list
  }
}

function onClick(event) {
  const entry = event.target.closest("[data-item-action]");
  if (!entry || !open) return;
  const { item, choose } = open;
  closeMenu(false);
  const action = entry.getAttribute("data-item-action");
  if (action === "project") item.dispatchEvent(new CustomEvent("tokenoff:move-to-project", { bubbles: true }));
  else choose(action, item);
}

/** Opens the menu of `button`'s item; `choose(action, item)` runs the entry picked. */
export function showMenu(button, row, choose) {
  closeMenu(false);
  const item = button.closest("li");
  const menu = document.createElement("div");
  menu.className = "item-menu";
  menu.setAttribute("role", "menu");
  menu.setAttribute("aria-label", button.getAttribute("aria-label") || "");
  const entries = [
    ["rename", _("Rename")],
    ["pin", row.pinned ? _("Unpin") : _("Pin")],
    ["archive", row.archived ? _("Unarchive") : _("Archive")],
    ["project", _("Move to project…")], // projects.js answers it (the tokenoff:move-to-project event)
    ["delete", _("Delete")],
  ];
  for (const [action, label] of entries) {
    const entry = document.createElement("button");
    entry.type = "button";
    entry.tabIndex = -1;
    entry.setAttribute("role", "menuitem");
    entry.setAttribute("data-item-action", action);
    entry.textContent = label;
    if (action === "delete") entry.classList.add("is-danger");
    menu.append(entry);
  }
  menu.addEventListener("keydown", onKeydown);
  menu.addEventListener("click", onClick);
  item.append(menu);
  position(menu, item);
  button.setAttribute("aria-expanded", "true");
  open = { menu, button, item, choose };
  menu.querySelector("button").focus();
}

/** A click outside the open menu (and its button) closes it. */
export function bindMenuDismiss() {
  document.addEventListener("click", (event) => {
    if (open && !open.menu.contains(event.target) && event.target !== open.button) closeMenu(false);
  });
}

export const menuButtonOpen = (button) => open !== null && open.button === button;
