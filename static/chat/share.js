// The Share button and dialog of the chat page (templates/sharing/share_dialog.html): make a read-only
// link to the conversation's snapshot, copy it, update the snapshot (same URL), set an expiry, include
// the attachments or not, revoke it. The button shows once the page has a conversation.
import { _, format, getJSON, post, urlFor } from "./util.js";

let dialog = null;
let button = null;
let current = null; // the live link as the server last said: {url, expires, updated, include_attachments}

function conversationId() {
  return document.getElementById("chat-app").getAttribute("data-conversation") || "";
}

function field(selector) {
  return dialog.querySelector(selector);
}

function say(text) {
  field("[data-share-status]").textContent = text;
}

function absolute(url) {
  return new URL(url, location.origin).href;
}

function show(link) {
  current = link && link.url ? link : null;
  field("[data-share-link]").hidden = !current;
  field('[data-action="revoke-share"]').hidden = !current;
  field('[data-action="save-share"]').textContent = current ? _("Update snapshot") : _("Create link");
  if (!current) return;
  field("#share-url").value = absolute(current.url);
  field("#share-expires").value = current.expires || "";
  field("#share-attachments").checked = !!current.include_attachments;
  const when = new Date(current.updated).toLocaleString();
  field("[data-share-updated]").textContent = format(_("Snapshot taken %(when)s."), { when });
}

function limitDates() {
  const today = new Date();
  const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  const input = field("#share-expires");
  input.min = local(today);
  input.max = local(new Date(today.getTime() + 365 * 86400000));
}

async function open() {
  const id = conversationId();
  if (!id) return;
  say("");
  show(null);
  field("#share-expires").value = "";
  field("#share-attachments").checked = false;
  limitDates();
  dialog.showModal();
  field('[data-action="save-share"]').focus();
  const link = await getJSON(urlFor(dialog.dataset.url, id));
  if (link === null) {
    say(_("Sharing is not available for this conversation."));
    return;
  }
  show(link);
  if (current) field("#share-url").focus();
}

async function save() {
  const fields = { expires: field("#share-expires").value };
  if (field("#share-attachments").checked) fields.include_attachments = "1";
  const wasShared = !!current;
  say(_("Saving…"));
  try {
    show(await post(urlFor(dialog.dataset.url, conversationId()), fields));
    say(wasShared ? _("Snapshot updated: the link stays the same.") : _("Link created."));
    field("#share-url").focus();
    field("#share-url").select();
  } catch (error) {
    say(error.message);
  }
}

async function copy() {
  const input = field("#share-url");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select(); // without clipboard access (plain HTTP): selected, for Ctrl+C
    say(_("Press Ctrl+C to copy the link."));
    return;
  }
  say(_("Link copied."));
}

async function revoke() {
  if (!current) return;
  try {
    await post(urlFor(dialog.dataset.revokeUrl, conversationId()));
    show(null);
    say(_("Link revoked: it no longer opens."));
    field('[data-action="save-share"]').focus();
  } catch (error) {
    say(error.message);
  }
}

export function init() {
  dialog = document.getElementById("share-dialog");
  button = document.getElementById("share-button");
  if (!dialog || !button) return;
  document.body.append(dialog); // out of the header, which folds away on a phone
  button.addEventListener("click", open);
  field('[data-action="save-share"]').addEventListener("click", save);
  field('[data-action="copy-share"]').addEventListener("click", copy);
  field('[data-action="revoke-share"]').addEventListener("click", revoke);
  // Escape closes the dialog and nothing more (the page's own Escape stops a reply).
  dialog.addEventListener("keydown", (event) => { if (event.key === "Escape") event.stopPropagation(); });
  dialog.addEventListener("close", () => button.focus());
  // A new chat gets its id with the first reply: the button appears then.
  const app = document.getElementById("chat-app");
  new MutationObserver(() => { button.hidden = !conversationId(); })
    .observe(app, { attributes: true, attributeFilter: ["data-conversation"] });
}
