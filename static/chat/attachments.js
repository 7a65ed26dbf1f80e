// The files a message will carry: each uploaded over HTTP as soon as it is chosen (POST
// /api/attachments/, docs/protocol.md), shown as a chip with its name, a preview, a progress bar,
// a remove button and, when the server refused it, why. The composer has one queue, an edit form
// another (seeded with the question's attachments). A file is never read into the page: the preview
// of a local image is an object URL, so a 10 MB photo costs the page nothing while it uploads.
import { announce } from "./store.js";
import {
  ATTACHMENTS_URL, documentFacts, formatSize, ngettext, thumbnailUrl,
} from "./attachment-views.js";
import { _, format, formatNumber } from "./util.js";

export const MAX_FILES = 10;

// The upload's refusals by code, in the page's language; the server's words for a code not known here.
const REFUSALS = {
  too_large: () => _("The file is larger than this site accepts."),
  quota_exceeded: () => _("Your storage for attachments is full. Delete old conversations to make room."),
  unsupported_type: () => _("This type of file cannot be attached."),
  image_too_large: () => _("The image has too many pixels to be read safely."),
  no_text_layer: () => _("This PDF has no text layer (a scan?), so there is no text to send."),
  bad_request: () => _("The server did not understand the upload."),
};

function refusal(code, message) {
  if (Object.hasOwn(REFUSALS, code)) return REFUSALS[code]();
  return message || _("The upload failed.");
}

function csrfToken() {
  const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return input ? input.value : "";
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

let counter = 0;

/** The files a paste carries when it is files (a screenshot), not text: null for text. */
export function filesFromPaste(event) {
  const data = event.clipboardData;
  if (!data || !data.files || !data.files.length) return null;
  // A spreadsheet's or a web page's copy carries a picture of itself beside its markup: text it is.
  if (Array.from(data.types || []).includes("text/html")) return null;
  return data.files;
}

/** The chips of one message being written, and their uploads. */
export class Queue {
  /** `list`: the <ul> the chips go in; `onChange()`: called whenever the queue's state changes. */
  constructor(list, onChange) {
    this.list = list;
    this.onChange = onChange || (() => {});
    this.items = [];
    this.notice = null;
  }

  /** Starts uploading the files; past MAX_FILES the rest are refused, said once. */
  add(files) {
    const refused = [];
    for (const file of Array.from(files || [])) {
      if (this.items.length >= MAX_FILES) { refused.push(file.name); continue; }
      const item = this.#create({ file, name: file.name || _("Pasted image"), status: "uploading" });
      this.#upload(item);
    }
    if (refused.length) {
      this.say(format(ngettext(
        "At most %(max)s files per message: %(names)s was not added.",
        "At most %(max)s files per message: %(names)s were not added.",
        refused.length,
      ), { max: MAX_FILES, names: refused.join(", ") }));
    } else {
      this.say("");
    }
    this.onChange();
  }

  /** Already uploaded attachments (a question's, in its edit form). */
  adopt(list) {
    for (const data of list || []) this.#create({ data, name: data.name, status: "done", excerpt: data.excerpt || "" });
    this.onChange();
  }

  /** A line under the chips (the 11th file, a model without vision); "" clears it. */
  say(text) {
    if (!this.notice) return;
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  remove(item) {
    if (item.xhr && item.status === "uploading") item.xhr.abort();
    this.#forget(item);
    this.items = this.items.filter((i) => i !== item);
    item.chip.remove();
    this.say("");
    announce(format(_("%s removed"), [item.name]));
    this.onChange();
  }

  /** Drops the chips of these attachment ids (a message the server took), quietly. */
  removeAll(ids) {
    const gone = new Set(ids.map(String));
    for (const item of this.items.filter((i) => i.data && gone.has(String(i.data.id)))) {
      this.#forget(item);
      item.chip.remove();
    }
    this.items = this.items.filter((i) => !(i.data && gone.has(String(i.data.id))));
    this.say("");
    this.onChange();
  }

  clear() {
    for (const item of this.items) {
      if (item.xhr && item.status === "uploading") item.xhr.abort();
      this.#forget(item);
      item.chip.remove();
    }
    this.items = [];
    this.say("");
    this.onChange();
  }

  get size() { return this.items.length; }
  uploading() { return this.items.some((i) => i.status === "uploading"); }
  failed() { return this.items.some((i) => i.status === "error"); }
  done() { return this.items.filter((i) => i.status === "done"); }
  hasImages() { return this.done().some((i) => i.data.kind === "image"); }
  find(id) { return this.items.find((i) => i.data && String(i.data.id) === String(id)) || null; }

  /** What a send frame carries: ids, or {id, excerpt} for a long document the member cut. */
  frameValue() {
    return this.done().map((i) => (i.excerpt ? { id: i.data.id, excerpt: i.excerpt } : i.data.id));
  }

  /** What the transcript shows of them until `started` says it. */
  shown() {
    return this.done().map((i) => ({ ...i.data, excerpt: i.excerpt }));
  }

  /** Why Send must wait, or "" when it need not. */
  blockReason() {
    if (this.uploading()) return _("Waiting for the files to finish uploading…");
    if (this.failed()) return _("Remove the files that could not be uploaded first.");
    return "";
  }

  /**
   * A document too long for the model: a panel on its chip says how much fits and offers the first
   * part or named pages; `choose(excerpt)` sends again with the choice.
   */
  offerExcerpt(id, tokens, fits, choose) {
    const item = this.find(id);
    if (!item) return false;
    item.chip.querySelector(".attachment-chooser")?.remove();
    const panel = element("div", "attachment-chooser");
    panel.setAttribute("role", "group");
    const text = format(_("%(name)s is about %(tokens)s tokens; about %(fits)s fit."), {
      name: item.name, tokens: formatNumber(tokens), fits: formatNumber(fits),
    });
    const said = element("p", "attachment-chooser-text", text);
    said.id = "chooser-" + item.key;
    panel.setAttribute("aria-labelledby", said.id);
    const first = element("button", "button button-small", _("Send the first part"));
    first.type = "button";
    const pagesId = "chooser-pages-" + item.key;
    const label = element("label", "attachment-chooser-label", _("or pages"));
    label.htmlFor = pagesId;
    const pages = element("input", "attachment-chooser-pages");
    pages.id = pagesId;
    pages.type = "text";
    pages.inputMode = "numeric";
    pages.placeholder = "1-5,9";
    pages.autocomplete = "off";
    pages.size = 8;
    const send = element("button", "button button-small", _("Send"));
    send.type = "button";
    const problem = element("p", "attachment-chooser-error");
    problem.hidden = true;
    const row = element("div", "attachment-chooser-row");
    row.append(first, label, pages, send);
    panel.append(said, row, problem);
    item.chip.append(panel);
    item.chip.classList.add("has-chooser");
    const pick = (excerpt) => {
      item.excerpt = excerpt;
      panel.remove();
      item.chip.classList.remove("has-chooser");
      this.#facts(item);
      choose(excerpt);
    };
    first.addEventListener("click", () => pick("first"));
    const byPages = () => {
      const value = pages.value.replace(/\s+/g, "");
      if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) {
        problem.textContent = _("Write pages as 1-5,9.");
        problem.hidden = false;
        pages.setAttribute("aria-invalid", "true");
        pages.focus();
        return;
      }
      pick(value);
    };
    send.addEventListener("click", byPages);
    pages.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing) { event.preventDefault(); byPages(); }
    });
    announce(text + " " + _("Send the first part, or name the pages to send."));
    first.focus();
    return true;
  }

  // ---- one chip ----------------------------------------------------------------------------

  #create(fields) {
    const item = { key: "a" + ++counter, file: null, data: null, xhr: null, objectUrl: "", error: "", excerpt: "", ...fields };
    item.chip = this.#chip(item);
    this.items.push(item);
    this.list.append(item.chip);
    return item;
  }

  #chip(item) {
    const chip = element("li", "attachment-chip");
    chip.dataset.key = item.key;
    const preview = element("span", "attachment-chip-preview");
    const isImage = item.data ? item.data.kind === "image" : /^image\//.test(item.file.type);
    if (isImage) {
      const img = document.createElement("img");
      img.alt = "";
      img.decoding = "async";
      // A format the browser cannot show (HEIC) has the icon until the server's thumbnail comes.
      img.addEventListener("error", () => { img.hidden = true; preview.classList.add("is-document"); });
      img.addEventListener("load", () => { img.hidden = false; preview.classList.remove("is-document"); });
      if (item.file) {
        item.objectUrl = URL.createObjectURL(item.file);
        img.src = item.objectUrl;
      } else {
        img.src = thumbnailUrl(item.data);
      }
      preview.append(img);
    } else {
      preview.classList.add("is-document");
    }
    const text = element("span", "attachment-chip-text");
    const name = element("span", "attachment-chip-name", item.name);
    name.title = item.name;
    const facts = element("span", "attachment-chip-facts");
    const bar = element("span", "attachment-progress");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", format(_("Uploading %s"), [item.name]));
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    bar.append(element("span", "attachment-progress-fill"));
    bar.hidden = item.status !== "uploading";
    const error = element("span", "attachment-chip-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    text.append(name, facts, bar, error);
    const remove = element("button", "attachment-chip-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", format(_("Remove %s"), [item.name]));
    remove.title = _("Remove");
    remove.addEventListener("click", () => this.remove(item));
    chip.append(preview, text, remove);
    chip.dataset.state = item.status;
    item.chip = chip;
    this.#facts(item);
    return chip;
  }

  #facts(item) {
    const facts = item.chip.querySelector(".attachment-chip-facts");
    if (item.data && item.data.kind === "document") {
      facts.textContent = documentFacts({ ...item.data, excerpt: item.excerpt });
    } else {
      facts.textContent = formatSize(item.data ? item.data.size : item.file.size);
    }
  }

  #progress(item, percent) {
    const bar = item.chip.querySelector(".attachment-progress");
    const value = Math.max(0, Math.min(100, Math.round(percent)));
    bar.setAttribute("aria-valuenow", String(value));
    bar.firstElementChild.style.width = value + "%"; // CSSOM: allowed by the strict CSP
  }

  #settle(item, status) {
    item.status = status;
    item.xhr = null;
    item.chip.dataset.state = status;
    item.chip.querySelector(".attachment-progress").hidden = true;
    this.onChange();
  }

  #fail(item, text) {
    item.error = text;
    const error = item.chip.querySelector(".attachment-chip-error");
    error.textContent = text;
    error.hidden = false;
    this.#settle(item, "error");
  }

  #succeed(item, data) {
    item.data = data;
    this.#progress(item, 100);
    // The server's thumbnail from now on: the object URL's image is let go once it has loaded.
    const img = item.chip.querySelector(".attachment-chip-preview img");
    if (img && data.kind === "image") {
      const local = item.objectUrl;
      img.addEventListener("load", () => this.#forget(item, local), { once: true });
      img.src = thumbnailUrl(data);
    } else {
      this.#forget(item);
    }
    this.#facts(item);
    this.#settle(item, "done");
    announce(format(_("%s uploaded"), [item.name]));
  }

  #forget(item, url) {
    const local = url === undefined ? item.objectUrl : url;
    if (local) URL.revokeObjectURL(local);
    if (item.objectUrl === local) item.objectUrl = "";
  }

  #upload(item) {
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", ATTACHMENTS_URL);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) this.#progress(item, (event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", () => {
      let data;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status === 201 && data && data.id) { this.#succeed(item, data); return; }
      const error = data && data.error && typeof data.error === "object" ? data.error : {};
      // A proxy's own refusal (an HTML page) says nothing a person can use: the status does.
      const fallback = xhr.status === 413 ? REFUSALS.too_large() : format(_("The upload failed (%s)."), [xhr.status]);
      this.#fail(item, error.code || error.message ? refusal(error.code, error.message) : fallback);
    });
    xhr.addEventListener("error", () => this.#fail(item, _("The upload failed: check the connection, then add the file again.")));
    const body = new FormData();
    body.append("file", item.file, item.name);
    xhr.send(body);
  }
}
