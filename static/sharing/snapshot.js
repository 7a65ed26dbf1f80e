// A shared conversation's snapshot (/s/<token>/): the replies rendered as the chat renders them (render.js,
// the same sanitizer). Read-only: no socket, no composer. A module (deferred): after the vendor scripts.
import { bindCopyButtons, renderMarkdown } from "../chat/render.js";

function renderSnapshot() {
  const stateEl = document.getElementById("share-messages");
  const transcript = document.querySelector("[data-share-transcript]");
  if (!stateEl || !transcript) return;
  const texts = new Map(JSON.parse(stateEl.textContent).map((m) => [String(m.id), m.content]));
  for (const body of transcript.querySelectorAll('[data-role="assistant"][data-message]')) {
    const text = texts.get(body.getAttribute("data-message"));
    if (text === undefined) continue;
    body.classList.remove("is-raw");
    renderMarkdown(body, text, { final: true });
    body.classList.toggle("is-empty", text === "");
  }
  bindCopyButtons(transcript);
  transcript.setAttribute("data-rendered", "true");
}

renderSnapshot();
