// Review pages: transcripts rendered exactly as the chat renders them (render.js), filters that
// apply on change, and the selection to download. No socket: review never follows a reply live.
// A module (deferred): it runs after the vendor scripts that render.js needs.
import { renderStoredReplies } from "../chat/render.js";

/** Assistant replies as Markdown, from the same text and through the same sanitizer as the chat. */
function renderTranscript() {
  const stateEl = document.getElementById("review-messages");
  const transcript = document.querySelector("[data-review-transcript]");
  if (!stateEl || !transcript) return;
  renderStoredReplies(stateEl, transcript);
}

function autoSubmitFilters() {
  for (const field of document.querySelectorAll("[data-autosubmit]")) {
    field.addEventListener("change", () => field.form.requestSubmit());
  }
  // On a phone the filters start folded unless some are set, so the results come first.
  const box = document.querySelector("[data-filters]");
  if (box && !box.hasAttribute("data-filtered") && window.matchMedia("(max-width: 800px)").matches) {
    box.open = false;
  }
}

function exportSelection() {
  const form = document.querySelector("[data-export-form]");
  if (!form) return;
  const boxes = Array.from(form.querySelectorAll('input[name="ids"]'));
  const all = form.querySelector("[data-select-all]");
  const count = form.querySelector("[data-selected-count]");
  const buttons = form.querySelectorAll("[data-export-button]");
  function update() {
    const ticked = boxes.filter((b) => b.checked).length;
    for (const button of buttons) button.disabled = ticked === 0;
    if (count) count.textContent = ticked ? ticked + " selected" : "";
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }
  if (all) {
    all.addEventListener("change", () => {
      for (const b of boxes) b.checked = all.checked;
      update();
    });
  }
  for (const b of boxes) b.addEventListener("change", update);
  update();
}

renderTranscript();
autoSubmitFilters();
exportSelection();
