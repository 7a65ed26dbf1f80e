// A shared conversation's snapshot (/s/<token>/): the replies rendered as the chat renders them (render.js,
// the same sanitizer). Read-only: no socket, no composer. A module (deferred): after the vendor scripts.
import { renderStoredReplies } from "../chat/render.js";

function renderSnapshot() {
  const stateEl = document.getElementById("share-messages");
  const transcript = document.querySelector("[data-share-transcript]");
  if (!stateEl || !transcript) return;
  renderStoredReplies(stateEl, transcript);
  transcript.setAttribute("data-rendered", "true");
}

renderSnapshot();
