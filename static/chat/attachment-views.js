// An attachment as the page draws it: an image's thumbnail (a link to the full image, which
// lightbox.js opens in place) or a document's chip (icon, name, pages, size; a link that downloads
// it). The same markup as templates/chat/attachment.html, which draws them after a reload.
import { _, format } from "./util.js";

const app = document.getElementById("chat-app");
/** Where attachments live (POST uploads one, <id>/ serves it, <id>/thumbnail/ an image's thumbnail). */
export const ATTACHMENTS_URL = (app && app.dataset.attachmentsUrl) || "/api/attachments/";

/** Plural-aware, with the JS catalogue's ngettext when it is there. */
export function ngettext(singular, plural, n) {
  return window.ngettext ? window.ngettext(singular, plural, n) : (n === 1 ? singular : plural);
}

export function fileUrl(a) {
  return a.url || ATTACHMENTS_URL + encodeURIComponent(a.id) + "/";
}

/** An image's small version; the upload's answer says null when the image is small enough itself. */
export function thumbnailUrl(a) {
  if (Object.hasOwn(a, "thumbnail")) return a.thumbnail || fileUrl(a);
  return fileUrl(a) + "thumbnail/";
}

/** Bytes as Django's filesizeformat says them (the transcript after a reload), in the page's language. */
export function formatSize(bytes) {
  const n = Number(bytes) || 0;
  const one = (value) => new Intl.NumberFormat(document.documentElement.lang || undefined, {
    maximumFractionDigits: 1, minimumFractionDigits: 1,
  }).format(value);
  if (n < 1024) return format(ngettext("%s byte", "%s bytes", n), [n]);
  if (n < 1024 * 1024) return format(_("%s KB"), [one(n / 1024)]);
  if (n < 1024 * 1024 * 1024) return format(_("%s MB"), [one(n / 1024 / 1024)]);
  return format(_("%s GB"), [one(n / 1024 / 1024 / 1024)]);
}

/** "12 pages · 1.2 MB · pages 1-5": what a document's chip says under its name. */
export function documentFacts(a) {
  const facts = [];
  if (a.pages) facts.push(format(ngettext("%s page", "%s pages", a.pages), [a.pages]));
  facts.push(formatSize(a.size));
  if (a.excerpt === "first") facts.push(_("the first part"));
  else if (a.excerpt) facts.push(format(_("pages %s"), [a.excerpt]));
  return facts.join(" · ");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** An image as a thumbnail link: its size set from the start, so nothing moves when it loads. */
export function thumbnailLink(a) {
  const link = element("a", "attachment-thumb");
  link.href = fileUrl(a);
  link.dataset.name = a.name;
  link.title = a.name;
  const img = document.createElement("img");
  img.alt = a.name;
  img.loading = "lazy";
  img.decoding = "async";
  if (a.width && a.height) {
    img.width = a.width;
    img.height = a.height;
  }
  // No thumbnail (an old upload, a storage hiccup): the image itself, once.
  img.addEventListener("error", () => { if (img.src !== link.href) img.src = link.href; }, { once: true });
  img.src = thumbnailUrl(a);
  link.append(img);
  return link;
}

/** A document as a chip that downloads it. */
export function documentLink(a) {
  const link = element("a", "attachment-doc");
  link.href = fileUrl(a);
  link.download = a.name;
  const icon = element("span", "attachment-doc-icon");
  icon.setAttribute("aria-hidden", "true");
  const text = element("span", "attachment-doc-text");
  text.append(element("span", "attachment-doc-name", a.name), element("span", "attachment-doc-facts", documentFacts(a)));
  link.append(icon, text);
  return link;
}

export function attachmentLink(a) {
  return a.kind === "image" ? thumbnailLink(a) : documentLink(a);
}

/** Fills a message's attachments row (hidden when it has none). */
export function renderAttachments(container, list) {
  if (!container) return;
  const items = Array.isArray(list) ? list : [];
  container.replaceChildren(...items.map(attachmentLink));
  container.hidden = items.length === 0;
}
