// The sidebar: conversations 50 at a time (more on scroll), search, and rename / pin / archive /
// delete with an undo; on a narrow screen, the drawer it lives in. frames.js tells it about new
// and renamed conversations (upsert, markCurrent); a rename here is told back as "tokenoff:renamed".
import { bindKeys, focusTabStop } from "./sidebar-keys.js";
import { bindMenuDismiss, closeMenu, menuButtonOpen, showMenu } from "./sidebar-menu.js";
import { app, initial, urls as chatUrls } from "./store.js";
import { _, displayTitle, format, post, urlFor } from "./util.js";

const DELETE_DELAY_MS = 6000; // how long "Undo" is offered before the delete is sent
const SEARCH_DELAY_MS = 250;

const sidebar = document.getElementById("sidebar");
const recentList = document.getElementById("conversation-list");
const pinnedList = document.getElementById("pinned-list");
const pinnedHeading = document.getElementById("pinned-heading");
const archivedList = document.getElementById("archived-list");
const archivedHeading = document.getElementById("archived-heading");
const archivedToggle = sidebar && sidebar.querySelector('[data-action="toggle-archived"]');
const emptyNote = sidebar && sidebar.querySelector("#sidebar-lists > .conversation-empty");
const moreSentinel = document.getElementById("list-more");
const searchInput = document.getElementById("conversation-search");
const searchResults = document.getElementById("search-results");
const searchList = document.getElementById("search-list");
const searchEmpty = document.getElementById("search-empty");
const lists = document.getElementById("sidebar-lists");
const listRegion = document.getElementById("conversation-nav"); // scrolls under the fixed head
const toast = document.getElementById("toast");
const toastText = document.getElementById("toast-text");
const toggleButton = document.querySelector('[data-action="toggle-sidebar"]');
const urls = sidebar ? {
  list: sidebar.dataset.listUrl,
  search: sidebar.dataset.searchUrl,
  update: sidebar.dataset.updateUrl,
  remove: sidebar.dataset.deleteUrl,
  conversation: chatUrls.conversation,
} : {};

let after = initial.sidebar_after || null; // the cursor of the next page, null when none
let loading = false;
let archivedLoaded = false; // asked for: archived items go in the list from then on
let archivedKnown = false; // its answer came: the list holds every archived one, or archivedMore
let archivedMore = false;
let hasArchived = !!archivedHeading && !archivedHeading.hidden; // the server's word, then ours
let pendingDelete = null; // {id, title, item, parent, next, timer, reopen}

const currentId = () => app.getAttribute("data-conversation") || "";
// keepalive: a delete sent as the page closes still arrives.
const send = (url, fields) => post(url, fields, { keepalive: true });

// ---- items ---------------------------------------------------------------------------------

function itemFor(id) {
  return sidebar.querySelector('#sidebar-lists li[data-conversation="' + CSS.escape(String(id)) + '"]');
}

function makeItem(row) {
  const item = document.createElement("li");
  item.setAttribute("data-conversation", String(row.id));
  item.setAttribute("data-updated", row.updated || new Date().toISOString());
  const link = document.createElement("a");
  link.href = urlFor(urls.conversation, row.id);
  const span = document.createElement("span");
  span.className = "conversation-title";
  link.append(...sourceBadge(row), span);
  const menuButton = document.createElement("button");
  menuButton.type = "button";
  menuButton.className = "item-menu-button";
  menuButton.setAttribute("data-action", "item-menu");
  menuButton.tabIndex = -1; // the link is the item's one tab stop; Shift+F10 opens this menu
  menuButton.setAttribute("aria-haspopup", "menu");
  menuButton.setAttribute("aria-expanded", "false");
  menuButton.textContent = "⋯";
  item.append(link, menuButton);
  fill(item, row);
  return item;
}

/** A script's conversation (/api/v1/) is marked "API", its token's name in the tooltip. */
function sourceBadge(row) {
  if (row.source !== "api") return [];
  const badge = document.createElement("span");
  badge.className = "conversation-source";
  badge.textContent = _("API");
  if (row.api_token_name) badge.title = format(_("API · %s"), [row.api_token_name]);
  return [badge];
}

function fill(item, row) {
  const title = displayTitle(row.title);
  item.querySelector(".conversation-title").textContent = title;
  item.querySelector("[data-action='item-menu']").setAttribute("aria-label", format(_("Actions for %s"), [title]));
  item.toggleAttribute("data-pinned", !!row.pinned);
  item.toggleAttribute("data-archived", !!row.archived);
  if (String(row.id) === currentId()) item.querySelector("a").setAttribute("aria-current", "page");
}

function listFor(row) {
  if (row.archived) return archivedList;
  return row.pinned ? pinnedList : recentList;
}

function refreshEmpty() {
  const count = (list) => list.querySelectorAll("li[data-conversation]").length;
  pinnedHeading.hidden = count(pinnedList) === 0;
  if (emptyNote) emptyNote.hidden = count(recentList) + count(pinnedList) > 0;
  refreshArchived();
  regroup();
}

/** "Archived" is offered only while the member has an archived conversation. */
function refreshArchived() {
  if (!archivedHeading) return;
  if (archivedKnown) hasArchived = archivedMore || archivedList.querySelector("li[data-conversation]") !== null;
  archivedHeading.hidden = !hasArchived;
  if (!hasArchived && !archivedList.hidden) {
    archivedList.hidden = true;
    archivedToggle.setAttribute("aria-expanded", "false");
  }
}

// ---- groups by day, in the browser's time zone ---------------------------------------------

const DAY_MS = 86400000;
const monthFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { year: "numeric", month: "long" });

function groupLabel(when) {
  const now = new Date();
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const at = when.getTime();
  if (at >= today) return _("Today");
  if (at >= today - DAY_MS) return _("Yesterday");
  if (at >= today - 7 * DAY_MS) return _("Previous 7 days");
  if (at >= today - 30 * DAY_MS) return _("Previous 30 days");
  return monthFormat.format(when);
}

/** Labels the recent list by last activity: Today, Yesterday, … then by month. */
function regroup() {
  for (const label of recentList.querySelectorAll("li.list-group-label")) label.remove();
  let previous = null;
  for (const item of Array.from(recentList.querySelectorAll("li[data-conversation]"))) {
    const when = new Date(item.getAttribute("data-updated") || Date.now());
    const label = isNaN(when) ? previous : groupLabel(when);
    if (label && label !== previous) {
      const group = document.createElement("li"); // a list holds list items only: the heading goes in one
      group.className = "list-group-label";
      const heading = group.appendChild(document.createElement("h3"));
      heading.className = "sidebar-heading";
      heading.textContent = label;
      item.before(group);
    }
    previous = label;
  }
}

/** Puts the row where it belongs now (pinned, recent or archived); at the top when it moved up. */
function place(row, toTop) {
  let item = itemFor(row.id);
  const target = listFor(row);
  if (!item) {
    item = makeItem(row);
    if (target === archivedList && !archivedLoaded) { refreshEmpty(); return item; }
    target.prepend(item);
  } else {
    fill(item, row);
    if (toTop) item.setAttribute("data-updated", new Date().toISOString());
    if (item.parentElement !== target || toTop) target.prepend(item);
  }
  refreshEmpty();
  return item;
}

function rowOf(item) {
  const title = item.querySelector(".conversation-title").textContent;
  const flag = (name) => item.hasAttribute(name);
  return { id: item.getAttribute("data-conversation"), title, pinned: flag("data-pinned"), archived: flag("data-archived") };
}

// ---- pages ---------------------------------------------------------------------------------

let sentinelInView = false;

function loadMore() {
  if (loading || !after) return;
  loading = true;
  let failed = false;
  fetch(urls.list + "?after=" + encodeURIComponent(after), { credentials: "same-origin" })
    .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
    .then((data) => {
      for (const row of data.conversations) if (!itemFor(row.id)) recentList.append(makeItem(row));
      after = data.after;
      regroup();
    })
    .catch(() => { failed = true; })
    .finally(() => {
      loading = false;
      // The observer speaks only when the end of the list comes into view or leaves it: while it
      // stays in view (a short page, a failed one), go on, after a pause if the page failed.
      if (sentinelInView && after) setTimeout(loadMore, failed ? 2000 : 0);
    });
}

function toggleArchived() {
  const open = archivedList.hidden;
  archivedList.hidden = !open;
  archivedToggle.setAttribute("aria-expanded", String(open));
  if (!open || archivedLoaded) return;
  archivedLoaded = true;
  fetch(urls.list + "?archived=1", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      for (const row of data.conversations) if (!itemFor(row.id)) archivedList.append(makeItem(row));
      archivedKnown = true;
      archivedMore = !!data.after; // more than a page: some stay archived whatever happens to these
      refreshArchived();
    })
    .catch(() => { archivedLoaded = false; });
}

// ---- search --------------------------------------------------------------------------------

let searchTimer = null;
let searchSerial = 0;

function runSearch() {
  const text = searchInput.value.trim();
  const serial = ++searchSerial;
  if (!text) {
    searchResults.hidden = true;
    lists.hidden = false;
    return;
  }
  fetch(urls.search + "?q=" + encodeURIComponent(text), { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      if (serial !== searchSerial) return; // an older answer, overtaken by newer typing
      searchList.replaceChildren();
      for (const row of data.conversations) {
        const item = document.createElement("li");
        item.setAttribute("data-conversation", String(row.id));
        const link = document.createElement("a");
        link.href = urlFor(urls.conversation, row.id);
        link.append(...sourceBadge(row));
        const title = link.appendChild(document.createElement("span"));
        title.className = "conversation-title";
        title.textContent = displayTitle(row.title);
        if (row.snippet && row.snippet.length) {
          const snippet = document.createElement("span");
          snippet.className = "conversation-snippet";
          for (const [piece, isMatch] of row.snippet) {
            const node = document.createElement(isMatch ? "mark" : "span");
            node.textContent = piece;
            snippet.append(node);
          }
          link.append(snippet);
        }
        item.append(link);
        searchList.append(item);
      }
      searchEmpty.hidden = data.conversations.length > 0;
      searchResults.hidden = false;
      lists.hidden = true;
    })
    .catch(() => {});
}

// ---- the item menu's actions (the menu itself: sidebar-menu.js) ----------------------------

function rename(item) {
  const row = rowOf(item);
  const link = item.querySelector("a");
  const field = document.createElement("input");
  field.type = "text";
  field.className = "rename-field";
  field.maxLength = 200;
  field.value = row.title;
  field.setAttribute("aria-label", _("New title"));
  link.hidden = true;
  item.insertBefore(field, link);
  field.focus();
  field.select();
  let finished = false;
  const finish = (save) => {
    if (finished) return;
    finished = true;
    const title = field.value.trim();
    field.remove();
    link.hidden = false;
    if (!save || !title || title === row.title) return;
    send(urlFor(urls.update, row.id), { title })
      .then((data) => {
        place(data, false);
        document.dispatchEvent(new CustomEvent("tokenoff:renamed", { detail: data }));
      })
      .catch((error) => showToast(error.message, false));
  };
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); finish(true); link.focus(); }
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); finish(false); link.focus(); }
  });
  field.addEventListener("blur", () => finish(true));
}

function setFlag(item, field, value) {
  const row = rowOf(item);
  send(urlFor(urls.update, row.id), { [field]: value ? "1" : "0" })
    .then((data) => {
      if (data.archived) hasArchived = true; // (counted from the list instead once it is loaded)
      if (data.archived && !archivedLoaded) item.remove();
      else place(data, true);
      refreshEmpty();
      if (field === "archived") showToast(data.archived ? _("Archived.") : _("Moved back to the list."), false);
    })
    .catch((error) => showToast(error.message, false));
}

// ---- delete with undo ----------------------------------------------------------------------
// The open conversation is left at once for a new chat, loaded as Ctrl+K loads it; that page takes
// the delete and its undo over (sessionStorage). A delete the server refuses comes back, and says so.

const HANDOFF_KEY = "tokenoff:pending-delete";

function showToast(text, undoable, ms) {
  toastText.textContent = text;
  toast.querySelector('[data-action="undo"]').hidden = !undoable;
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { toast.hidden = true; }, ms || (undoable ? DELETE_DELAY_MS : 5000));
}

const putBack = ({ item, parent, next }) => { parent.insertBefore(item, next && next.parentElement === parent ? next : null); refreshEmpty(); };

/** The delete waiting for its undo window to end, now out of it; null when none. */
const takePending = () => { const pending = pendingDelete; pendingDelete = null; if (pending) clearTimeout(pending.timer); return pending; };

function commitDelete() {
  const pending = takePending();
  if (!pending) return;
  send(urlFor(urls.remove, pending.id)).catch((error) => {
    if (!itemFor(pending.id)) putBack(pending);
    showToast(format(_("“%s” was not deleted: %s"), [pending.title, error.message]), false);
  });
}

function holdDelete(row, item, parent, ms, reopen) {
  const next = item.nextElementSibling;
  pendingDelete = { id: row.id, title: row.title, item, parent, next, reopen, timer: setTimeout(commitDelete, ms) };
  item.remove();
  refreshEmpty();
  showToast(format(_("“%s” will be deleted."), [row.title]), true, ms);
}

function askDelete(item) {
  const row = rowOf(item);
  commitDelete(); // one undo at a time: an earlier delete goes through now
  if (String(row.id) !== currentId()) {
    holdDelete(row, item, item.parentElement, DELETE_DELAY_MS, false);
    if (!sidebar.contains(document.activeElement)) focusTabStop(); // its menu had the focus: not lost
    return;
  }
  const handOff = JSON.stringify({ ...row, until: Date.now() + DELETE_DELAY_MS });
  try { sessionStorage.setItem(HANDOFF_KEY, handOff); } catch { return showToast(_("This browser cannot keep the delete while it opens a new chat."), false); }
  item.remove();
  refreshEmpty();
  location.assign(sidebar.querySelector(".new-chat").href);
}

/** The delete of the conversation the last page had open: its undo goes on here, for what is left. */
function takeOverDelete() {
  let row;
  try { row = JSON.parse(sessionStorage.getItem(HANDOFF_KEY) || "null"); sessionStorage.removeItem(HANDOFF_KEY); } catch { return; }
  if (!row || row.id == null || String(row.id) === currentId()) return; // opened again: kept
  const ms = Math.min(DELETE_DELAY_MS, Math.max(0, Number(row.until) - Date.now()) || 0);
  const item = itemFor(row.id) || makeItem(row);
  holdDelete(row, item, item.parentElement || listFor(row), ms, true);
}

function undoDelete() {
  const pending = takePending();
  if (!pending) return;
  toast.hidden = true;
  if (pending.reopen) return location.assign(urlFor(urls.conversation, pending.id)); // it was open
  putBack(pending);
  pending.item.querySelector("a").focus();
}

/** A conversation started or was renamed: show it (at the top when it has new activity). */
export function upsert(id, title, toTop) {
  if (!sidebar) return null;
  const item = itemFor(id);
  const row = item ? { ...rowOf(item), title: title == null ? rowOf(item).title : title } : { id, title };
  return place(row, toTop && !(item && item.hasAttribute("data-pinned")));
}

export function markCurrent(id) {
  if (!sidebar) return;
  for (const a of sidebar.querySelectorAll('a[aria-current="page"]')) a.removeAttribute("aria-current");
  const item = itemFor(id);
  if (item) item.querySelector("a").setAttribute("aria-current", "page");
}

export function focusSearch() {
  if (!sidebar) return;
  app.classList.add("sidebar-open");
  searchInput.focus();
  searchInput.select();
}

// ---- the drawer (a narrow screen) ------------------------------------------------------------

export const isOpen = () => app.classList.contains("sidebar-open");

export function close() {
  app.classList.remove("sidebar-open");
  if (toggleButton) toggleButton.setAttribute("aria-expanded", "false");
}

export function toggle() {
  const open = !isOpen();
  app.classList.toggle("sidebar-open", open);
  if (toggleButton) toggleButton.setAttribute("aria-expanded", String(open));
  if (open) {
    const current = sidebar.querySelector('a[aria-current="page"]') || sidebar.querySelector("a");
    if (current) current.focus();
  }
}

/** What an entry of an item's ⋯ menu does. */
function choose(action, item) {
  const row = rowOf(item);
  if (action === "rename") rename(item);
  else if (action === "pin") setFlag(item, "pinned", !row.pinned);
  else if (action === "archive") setFlag(item, "archived", !row.archived);
  else if (action === "delete") askDelete(item);
}

function openItemMenu(item) {
  const button = item.querySelector('[data-action="item-menu"]');
  if (button) showMenu(button, rowOf(item), choose);
}

/** The one delegated click handler of the sidebar: the item menus' buttons, the archive. */
function onClick(event) {
  const menuButton = event.target.closest('[data-action="item-menu"]');
  if (menuButton) {
    event.preventDefault();
    if (menuButtonOpen(menuButton)) closeMenu(false);
    else openItemMenu(menuButton.closest("li"));
    return;
  }
  if (event.target.closest('[data-action="toggle-archived"]')) toggleArchived();
}

/** Binds the sidebar's events and labels the list; once, from main.js. */
export function init() {
  if (!sidebar) return;
  if (toggleButton) toggleButton.addEventListener("click", toggle);
  const backdrop = document.getElementById("sidebar-backdrop");
  if (backdrop) backdrop.addEventListener("click", close);

  if (moreSentinel && "IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      sentinelInView = entries.some((e) => e.isIntersecting);
      if (sentinelInView) loadMore();
    }, { root: listRegion, rootMargin: "400px" }).observe(moreSentinel);
  }

  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && searchInput.value) {
      event.stopPropagation();
      searchInput.value = "";
      runSearch();
    }
  });

  toast.querySelector('[data-action="undo"]').addEventListener("click", undoDelete);
  // Leaving the page ends the undo window: the delete is sent (keepalive) rather than lost.
  window.addEventListener("pagehide", commitDelete);
  takeOverDelete();

  sidebar.addEventListener("click", onClick);
  bindMenuDismiss();
  regroup();
  bindKeys(listRegion, openItemMenu);
}
