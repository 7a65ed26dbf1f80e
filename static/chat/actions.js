// What the buttons under a message do (transcript.js draws them): copy, edit, regenerate, the
// version arrows and the thumbs. One delegated click handler on the message list: see init().
import { Queue, filesFromPaste } from "./attachments.js";
import { showThread } from "./frames.js";
import { startReply } from "./composer.js";
import { announce, busy, messages, showError, state, urls } from "./store.js";
import { messageList, renderActions } from "./transcript.js";
import { copyText } from "./render.js";
import { _, post, urlFor } from "./util.js";

function copyMessage(m, button) {
  copyText(m.text).then((ok) => {
    if (!ok) { showError(_("Copying is not allowed here.")); return; }
    button.textContent = _("Copied");
    setTimeout(() => { button.textContent = _("Copy"); }, 1500);
    announce(_("Copied to the clipboard"));
  });
}

/** An inline form under a message: a text field, then Cancel and the submit button. */
function inlineForm(className, field, submitText, cancelText, label) {
  const form = document.createElement("form");
  form.className = className;
  const send = document.createElement("button");
  send.type = "submit";
  send.className = "button button-primary";
  send.textContent = submitText;
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "button";
  cancel.textContent = cancelText;
  const bar = document.createElement("div");
  bar.className = "feedback-bar";
  bar.append(cancel, send);
  form.append(...(label ? [label] : []), field, bar);
  return { form, cancel };
}

function giveFeedback(m, rating, comment) {
  const current = m.feedback ? m.feedback.rating : 0;
  const value = rating === current && comment === undefined ? 0 : rating; // pressing it again takes it back
  post(urlFor(urls.feedback, m.id), { rating: String(value), comment: comment || "" })
    .then((data) => {
      m.feedback = data.rating ? { rating: data.rating, comment: data.comment } : null;
      renderActions(m);
      if (data.rating === -1 && comment === undefined) askComment(m);
      else if (data.rating) announce(_("Thanks for the feedback"));
    })
    .catch((error) => showError(error.message));
}

/** A small form under a bad reply: what was wrong (optional). */
function askComment(m) {
  const label = document.createElement("label");
  const fieldId = "feedback-" + m.id;
  label.htmlFor = fieldId;
  label.textContent = _("What was wrong? (optional)");
  const field = document.createElement("textarea");
  field.id = fieldId;
  field.rows = 2;
  field.maxLength = 2000;
  const { form, cancel } = inlineForm("feedback-form", field, _("Send feedback"), _("Skip"), label);
  m.wrapper.append(form);
  field.focus();
  cancel.addEventListener("click", () => form.remove());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    form.remove();
    giveFeedback(m, -1, field.value);
  });
}

/**
 * The question's files in its edit form: kept, removed (each chip's button) or added to (a paperclip
 * button, a paste). `changed()` says whether the list differs from what the question carried.
 */
function editAttachments(m, form, field) {
  const chips = document.createElement("ul");
  chips.className = "attachment-list edit-attachments";
  chips.setAttribute("aria-label", _("Attached files"));
  const notice = document.createElement("p");
  notice.className = "attachment-notice";
  notice.setAttribute("role", "status");
  notice.hidden = true;
  const send = form.querySelector('button[type="submit"]');
  const queue = new Queue(chips, () => {
    chips.hidden = queue.size === 0;
    const why = queue.blockReason();
    send.disabled = why !== "";
    send.title = why;
  });
  queue.notice = notice;
  queue.adopt(m.attachments);
  const before = JSON.stringify(queue.frameValue());
  const input = document.createElement("input");
  input.type = "file";
  input.multiple = true;
  input.hidden = true;
  input.addEventListener("change", () => { queue.add(input.files); input.value = ""; });
  const attach = document.createElement("button");
  attach.type = "button";
  attach.className = "icon-button attach-button";
  attach.setAttribute("aria-label", _("Attach files"));
  attach.title = _("Attach files");
  const icon = document.querySelector("#attach-button svg");
  if (icon) attach.append(icon.cloneNode(true));
  attach.addEventListener("click", () => input.click());
  field.before(chips, notice);
  form.querySelector(".feedback-bar").prepend(attach, input);
  field.addEventListener("paste", (event) => {
    const files = filesFromPaste(event);
    if (!files) return;
    event.preventDefault();
    queue.add(files);
  });
  return { queue, changed: () => JSON.stringify(queue.frameValue()) !== before };
}

/** Edits a question in place; sending it starts a new branch from there. */
function startEdit(m) {
  if (m.wrapper.querySelector(".edit-form")) return;
  const field = document.createElement("textarea");
  field.value = m.text;
  field.rows = 1; // grow() sizes it to its text
  field.setAttribute("aria-label", _("Edit your message"));
  const { form, cancel } = inlineForm("edit-form", field, _("Save and send"), _("Cancel"));
  const files = editAttachments(m, form, field);
  // As wide as the bubble may be (chat.css, "the wide editor"), and never narrower than it was.
  form.style.minWidth = Math.ceil(m.body.getBoundingClientRect().width) + "px";
  m.body.hidden = true;
  m.body.after(form); // in the body's place, above the buttons
  // The field grows with its text up to its CSS max-height, then scrolls inside.
  const grow = () => {
    field.style.overflowY = "hidden";
    field.style.height = "auto";
    field.style.height = field.scrollHeight + field.offsetHeight - field.clientHeight + "px";
    field.style.overflowY = field.scrollHeight > field.clientHeight + 1 ? "auto" : "hidden";
  };
  grow();
  field.addEventListener("input", grow);
  window.addEventListener("resize", grow);
  field.focus();
  const close = () => {
    window.removeEventListener("resize", grow);
    form.remove();
    files.queue.clear(); // uploads still running stop; the server sweeps what was never sent
    m.body.hidden = false;
    if (m.attachmentRow) m.attachmentRow.hidden = m.attachments.length === 0;
  };
  if (m.attachmentRow) m.attachmentRow.hidden = true; // the form's chips stand in for them
  cancel.addEventListener("click", close);
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(); }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const content = field.value;
    if ((!content.trim() && !files.queue.size) || busy()) return;
    const waiting = files.queue.blockReason();
    if (waiting) { announce(waiting); return; }
    const frame = { type: "send", conversation: state.conversationId, content: content, edit: Number(m.id) };
    // Omitted, the new version keeps the question's files; a list (even empty) replaces them.
    if (files.changed()) frame.attachments = files.queue.frameValue();
    const shown = files.queue.shown();
    close();
    startReply(frame, { content, replaces: m.id, attachments: shown });
  });
}

function regenerate(m) {
  const frame = { type: "regenerate", conversation: state.conversationId, message: Number(m.id) };
  startReply(frame, { content: "", replaces: m.id });
}

function showVersion(target) {
  if (!target || state.conversationId === null) return;
  post(urlFor(urls.branch, state.conversationId), { message: target })
    .then((data) => {
      showThread(data.messages);
      announce(_("Showing another version"));
    })
    .catch((error) => showError(error.message));
}

/** The one delegated click handler for the buttons under every message. */
function onClick(event) {
  const button = event.target.closest("[data-message-action]");
  // The page's buttons sit beside the message body: nothing inside a reply's markup acts.
  if (!button || button.disabled || button.closest(".message-body")) return undefined;
  const wrapper = button.closest("[data-wrapper-for]");
  const m = wrapper ? messages.get(wrapper.getAttribute("data-wrapper-for")) : null;
  if (!m) return undefined;
  switch (button.getAttribute("data-message-action")) {
    case "copy": return copyMessage(m, button);
    case "edit": return startEdit(m);
    case "regenerate": return regenerate(m);
    case "thumbs-up": return giveFeedback(m, 1);
    case "thumbs-down": return giveFeedback(m, -1);
    case "version-previous":
    case "version-next": return showVersion(button.dataset.target);
    default: return undefined;
  }
}

export function init() {
  messageList.addEventListener("click", onClick);
}
