// The chat page (protocol in docs/protocol.md): wires the modules together and starts. A module
// script, so it runs after the classic deferred ones (the JS catalogue, the vendor globals).
import * as actions from "./actions.js";
import * as assistants from "./assistants.js";
import * as composer from "./composer.js";
import { connection, setOpenTitle } from "./frames.js";
import { bindLightbox, isOpen as lightboxOpen } from "./lightbox.js";
import * as projects from "./projects.js";
import { bindCopyButtons } from "./render.js";
import * as Sidebar from "./sidebar.js";
import * as share from "./share.js";
import * as socket from "./socket.js";
import { WS_PATH, hideError, initial, messages, present, state, urls } from "./store.js";
import { adoptServerMessages, messageList, scrollToBottom } from "./transcript.js";

/** Page-wide keys: Ctrl+K a new chat, Ctrl+/ search, Escape closes the drawer or stops a reply. */
function onKeydown(event) {
  const command = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;
  if (command && event.key.toLowerCase() === "k") {
    event.preventDefault(); // the browser's own Ctrl+K searches the web
    location.assign(urls.home);
    return;
  }
  if (command && event.key === "/") {
    event.preventDefault();
    Sidebar.focusSearch();
    return;
  }
  if (event.key !== "Escape" || event.isComposing) return;
  if (lightboxOpen()) return; // Escape closes the image (the dialog's own), nothing more
  if (Sidebar.isOpen()) {
    Sidebar.close();
    const toggle = document.querySelector('[data-action="toggle-sidebar"]');
    if (toggle) toggle.focus();
    return;
  }
  if (state.streamingId !== null) {
    event.preventDefault();
    composer.stop();
  }
}

function start() {
  Sidebar.init();
  projects.init();
  composer.init();
  actions.init();
  assistants.init();
  share.init();
  bindCopyButtons(messageList);
  bindLightbox(messageList);
  document.addEventListener("keydown", onKeydown);
  document.getElementById("error-banner").querySelector('[data-action="dismiss-error"]').addEventListener("click", () => {
    hideError();
    composer.focus();
  });
  // Renamed in the sidebar: the open conversation's heading follows.
  document.addEventListener("tokenoff:renamed", (event) => {
    if (String(event.detail.id) === String(state.conversationId)) setOpenTitle(event.detail.title);
  });
  // The page for a pushed URL is the server's: going back or forward loads it.
  window.addEventListener("popstate", () => { location.reload(); });

  adoptServerMessages(initial.messages);
  const last = Array.from(messages.values()).pop();
  if (last && last.role === "assistant" && last.status === "streaming") composer.setStreaming(last.id);
  setOpenTitle(state.title);
  composer.resizeInput();
  composer.updateControls();
  scrollToBottom();
  socket.start(WS_PATH, connection);

  /** A small read-only view for people's tools and tests (and conversation-settings.js). */
  window.TokenOffChat = Object.freeze({
    get conversation() { return state.conversationId; },
    get streaming() { return state.streamingId; },
    get pending() { return state.pending ? state.pending.id : null; },
    get connected() { return socket.isConnected(); },
    /** True while the transcript is being redrawn from the server (after an edit's reply, say). */
    get loading() { return state.threadLoads > 0; },
    messageText(id) { const m = messages.get(String(id)); return m ? m.text : null; },
  });
}

if (present) start();
