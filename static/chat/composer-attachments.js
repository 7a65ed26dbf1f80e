// The composer's attachments: the paperclip button and its file input, files dropped anywhere on the
// chat (a drop target shows while dragging) or pasted into the message box (a screenshot), the chips
// (attachments.js), and the checks before a send: an image for a model that cannot see is refused
// with a model that can, a document longer than half the model's window asks what to send.
import { Queue, filesFromPaste } from "./attachments.js";
import { catalogue, modelLabel } from "./picker.js";
import { announce } from "./store.js";
import { _, format } from "./util.js";

const tray = document.getElementById("attachment-tray");
const list = document.getElementById("attachment-list");
const status = document.getElementById("attachment-status");
const warning = document.getElementById("attachment-warning");
const button = document.getElementById("attach-button");
const input = document.getElementById("attach-input");
const dropTarget = document.getElementById("drop-target");
const area = document.getElementById("main");

let queue = null;
let select = null;
let changed = () => {};

/** The models of the catalogue that take images, in the picker's order. */
function visionModels() {
  const names = [];
  for (const group of catalogue.groups || []) {
    for (const name of group.models) {
      const model = catalogue.models[name];
      if (model && model.vision && !names.includes(name)) names.push(name);
    }
  }
  return names;
}

function canSee(name) {
  const model = catalogue.models[name];
  return !model || !!model.vision; // a model the page does not know: the server decides
}

/** An image queued (uploading or done) for the chosen model. */
function hasImages() {
  return queue.items.some((i) => (i.data ? i.data.kind === "image" : /^image\//.test(i.file.type)) && i.status !== "error");
}

/** The warning when the chosen model cannot take the images attached: which can, and a switch. */
function showVisionWarning() {
  if (!warning) return false;
  const model = select ? select.value : "";
  const problem = hasImages() && !canSee(model);
  warning.replaceChildren();
  warning.hidden = !problem;
  if (!problem) return false;
  const able = visionModels();
  const text = document.createElement("span");
  text.textContent = able.length
    ? format(_("%(model)s cannot read images. Switch to a model marked Vision, such as %(able)s, or remove the images."), {
      model: modelLabel(model), able: able.slice(0, 3).map(modelLabel).join(", "),
    })
    : format(_("%s cannot read images, and no model you may use can. Remove the images to send."), [modelLabel(model)]);
  warning.append(text);
  if (able.length) {
    const to = document.createElement("button");
    to.type = "button";
    to.className = "button button-small attachment-switch";
    to.textContent = format(_("Switch to %s"), [modelLabel(able[0])]);
    to.addEventListener("click", () => {
      select.value = able[0];
      // As a person's choice in the picker: picker.js and the composer follow the change.
      select.dispatchEvent(new Event("input", { bubbles: true }));
      select.dispatchEvent(new Event("change", { bubbles: true }));
      announce(format(_("Switched to %s"), [modelLabel(able[0])]));
    });
    warning.append(" ", to);
  }
  return true;
}

function refresh() {
  if (!tray) return;
  const reason = queue.blockReason();
  status.textContent = reason;
  status.hidden = !reason;
  showVisionWarning();
  tray.hidden = queue.size === 0 && queue.notice.hidden && warning.hidden;
  // The token meter (meter.js) adds what the uploaded files will add to the send.
  const tokens = queue.done().reduce((sum, i) => sum + (Number(i.data.tokens) || 0), 0);
  document.dispatchEvent(new CustomEvent("tokenoff:attachments", { detail: { tokens } }));
  changed();
}

// ---- the ways in: the button, a drop, a paste -----------------------------------------------

function carriesFiles(event) {
  return !!event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
}

let dragDepth = 0;

function showDrop(show) {
  if (dropTarget) dropTarget.hidden = !show;
  if (area) area.classList.toggle("is-dropping", show);
}

function bindDrop() {
  if (!area) return;
  area.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth += 1;
    showDrop(true);
  });
  area.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  area.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0 || !area.contains(event.relatedTarget)) { dragDepth = 0; showDrop(false); }
  });
  area.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    showDrop(false);
    add(event.dataTransfer.files);
  });
  // A file dropped beside the chat must not replace the page with itself (and lose what was typed).
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => { if (carriesFiles(event)) event.preventDefault(); });
  }
}

function add(files) {
  if (!files || !files.length) return;
  queue.add(files);
}

/** Binds the button, the drop target and the paste into `field`; `onChange()` follows the queue. */
export function init(field, modelSelect, onChange) {
  if (!tray || !list) return;
  select = modelSelect;
  changed = onChange;
  queue = new Queue(list, refresh);
  queue.notice = document.getElementById("attachment-notice");
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    add(input.files);
    input.value = ""; // the same file again is a change again
  });
  bindDrop();
  field.addEventListener("paste", (event) => {
    const files = filesFromPaste(event);
    if (!files) return;
    event.preventDefault();
    add(files);
  });
  if (select) select.addEventListener("change", refresh);
}

// ---- sending --------------------------------------------------------------------------------

/** Whether files ready to go are attached (a message of files alone may be sent). */
export function hasFiles() {
  return !!queue && queue.done().length > 0;
}

/** Why Send waits ("" when it need not). */
export function blockReason() {
  return queue ? queue.blockReason() : "";
}

/**
 * Whether what is attached may go to `model`: false (and the page says why) for images to a model
 * without vision, or a document longer than half the model's window that has no excerpt chosen yet
 * (its chooser then calls `resend`).
 */
export function readyFor(model, resend) {
  if (!queue || !queue.size) return true;
  if (showVisionWarning()) {
    announce(warning.textContent);
    return false;
  }
  const facts = catalogue.models[model];
  const contextWindow = facts ? Number(facts.context_window) || 0 : 0;
  if (!contextWindow) return true;
  const half = Math.floor(contextWindow / 2);
  const long = queue.done().find((i) => i.data.kind === "document" && !i.excerpt && Number(i.data.tokens) > half);
  if (!long) return true;
  queue.offerExcerpt(long.data.id, long.data.tokens, half, resend);
  return false;
}

/** The send frame's `attachments` (undefined when there are none). */
export function frameValue() {
  if (!queue || !queue.size) return undefined;
  const value = queue.frameValue();
  return value.length ? value : undefined;
}

/** What the transcript shows with the question until `started` says it. */
export function shown() {
  return queue ? queue.shown() : [];
}

/** The server took the message: the chips it carried go (any added since stay). */
export function clearSent(sent) {
  if (!queue || !sent || !sent.length) return;
  queue.removeAll(sent.map((a) => a.id));
}

/** A `too_large` error about one document: its chooser; false when the page has no such chip. */
export function offerExcerpt(frame, resend) {
  if (!queue || frame.attachment == null) return false;
  return queue.offerExcerpt(frame.attachment, Number(frame.tokens) || 0, Number(frame.fits) || 0, resend);
}
