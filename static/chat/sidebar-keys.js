// The sidebar's conversations as one tab stop (a roving tabindex): the open conversation's link, else
// the first, takes Tab; ArrowUp and ArrowDown move through the visible ones as one list (pinned, recent
// and archived; or the search results while a search shows), Home and End go to the ends, Enter opens
// (the link's own), and Shift+F10 or the ContextMenu key opens the ⋯ menu of the focused one.
// The links stay links in lists: no listbox role is claimed.

const LINKS = "li[data-conversation] > a";

let nav = null;
let stop = null; // the link that takes Tab
let menuFromKeys = false; // a keyboard's context menu, opened as ours: the browser's is not shown

const shown = (link) => !link.hidden && link.getClientRects().length > 0;
const visibleLinks = () => Array.from(nav.querySelectorAll(LINKS)).filter(shown);

function setStop(link) {
  stop = link;
  for (const other of nav.querySelectorAll(LINKS)) other.tabIndex = other === link ? 0 : -1;
}

/** Keeps the one tab stop on a visible link after the lists changed (added, removed, hidden, searched). */
export function syncTabStop() {
  if (!nav) return;
  const links = visibleLinks();
  if (stop && links.includes(stop)) return setStop(stop);
  setStop(links.find((link) => link.getAttribute("aria-current") === "page") || links[0] || null);
}

/** Focuses the list's tab stop (after the item that had the focus went away). */
export function focusTabStop() {
  syncTabStop();
  if (stop) stop.focus();
}

function onKeydown(event, openItemMenu) {
  const link = event.target instanceof Element && event.target.matches(LINKS) ? event.target : null;
  if (!link || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey)) {
    event.preventDefault();
    menuFromKeys = true;
    setTimeout(() => { menuFromKeys = false; }, 500);
    openItemMenu(link.closest("li"));
    return;
  }
  if (event.shiftKey) return;
  const links = visibleLinks();
  const at = links.indexOf(link);
  const to = {
    ArrowDown: links[Math.min(at + 1, links.length - 1)],
    ArrowUp: links[Math.max(at - 1, 0)],
    Home: links[0],
    End: links[links.length - 1],
  }[event.key];
  if (!to) return;
  event.preventDefault(); // the arrows would scroll the list too
  setStop(to);
  to.focus();
}

/** Binds the keys to the list region `region`; `openItemMenu(item)` opens an item's ⋯ menu. */
export function bindKeys(region, openItemMenu) {
  nav = region;
  nav.addEventListener("keydown", (event) => onKeydown(event, openItemMenu));
  nav.addEventListener("focusin", (event) => {
    if (event.target instanceof Element && event.target.matches(LINKS)) setStop(event.target);
  });
  // The key's own context menu event follows its keydown: ours is open, the browser's stays shut.
  nav.addEventListener("contextmenu", (event) => {
    if (menuFromKeys) event.preventDefault();
    menuFromKeys = false;
  });
  new MutationObserver(syncTabStop).observe(nav, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["hidden"],
  });
  syncTabStop();
}
