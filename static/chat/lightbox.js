// The full image of a thumbnail, over the page: a modal <dialog> (the browser traps focus in it and
// Escape closes it), closed too by its button or a click outside the image; focus goes back to the
// thumbnail. Without this script the thumbnail is a plain link to the image.
import { _ } from "./util.js";

let dialog = null;
let image = null;
let opener = null;

function build() {
  dialog = document.createElement("dialog");
  dialog.className = "lightbox";
  const close = document.createElement("button");
  close.type = "button";
  close.className = "lightbox-close";
  close.setAttribute("aria-label", _("Close the image"));
  close.textContent = "×";
  image = document.createElement("img");
  image.className = "lightbox-image";
  image.decoding = "async";
  const open = document.createElement("a");
  open.className = "lightbox-open";
  open.target = "_blank";
  open.rel = "noopener";
  open.textContent = _("Open in a new tab");
  dialog.append(close, image, open);
  document.body.append(dialog);
  close.addEventListener("click", () => dialog.close());
  // A click on the backdrop lands on the dialog itself; one on the image, a button or the link does not.
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
  dialog.addEventListener("close", () => {
    image.removeAttribute("src"); // the full image leaves memory with the dialog
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
}

/** Shows the image at `url`, named `name` (its alt text); `from` gets the focus back. */
export function openLightbox(url, name, from) {
  if (!dialog) build();
  opener = from || document.activeElement;
  image.alt = name || "";
  image.src = url;
  dialog.setAttribute("aria-label", name || _("Image"));
  dialog.querySelector(".lightbox-open").href = url;
  dialog.showModal();
  dialog.querySelector(".lightbox-close").focus();
}

export function isOpen() {
  return !!dialog && dialog.open;
}

/** Thumbnails under `root` open here (a plain click; Ctrl/⌘-click still opens a tab). */
export function bindLightbox(root) {
  if (!root) return;
  root.addEventListener("click", (event) => {
    const link = event.target.closest("a.attachment-thumb");
    if (!link || !root.contains(link)) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openLightbox(link.href, link.dataset.name || link.title, link);
  });
}
