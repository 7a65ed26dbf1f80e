// The server's frames (docs/protocol.md) and what each does to the page: handleFrame maps a frame
// type to its handler. Also what mends the transcript after missed frames (the saved thread), and
// the socket's ups and downs as the page sees them.
import * as composer from "./composer.js";
import * as Sidebar from "./sidebar.js";
import * as socket from "./socket.js";
import { announce, app, messages, reasonFor, showError, state, urls } from "./store.js";
import {
  appendMessage, followBottom, removeFrom, renderActions, renderAllActions, renderNow, replaceAll,
  scheduleRender, scrollToBottom,
} from "./transcript.js";
import { _, codePoints, displayTitle, getJSON, urlFor } from "./util.js";

const chatTitle = document.getElementById("chat-title");
const exportLinks = document.getElementById("export-links");

let reconcileOnSnapshot = false; // the first snapshot after a reconnect: check against the server
const forked = new Set(); // replies on a new branch: their versions are fetched once they end

/** The one place a frame type finds its handler. */
export function handleFrame(frame) {
  switch (frame.type) {
    case "started": return onStarted(frame);
    case "delta": return onDelta(frame);
    case "done": return onDone(frame);
    case "snapshot": return onSnapshot(frame);
    case "conversation": return onConversation(frame);
    case "error": return onError(frame);
    default: return undefined;
  }
}

function isOpen(frame) {
  return state.conversationId !== null && frame.conversation === state.conversationId;
}

function onStarted(frame) {
  composer.showBudgetNotice(frame.notice, frame.budget); // 80 % or more of a monthly budget used, or nothing
  const pending = state.pending;
  const mine = pending !== null && frame.id === pending.id;
  let userText = "";
  let attached = Array.isArray(frame.attachments) ? frame.attachments : null; // the question's files
  if (mine) {
    userText = pending.content;
    if (!attached) attached = pending.attachments;
    if (pending.replaces) {
      removeFrom(pending.replaces); // an edit or a regeneration: a new branch from there
    } else {
      composer.clearSent(pending.content, pending.attachments);
    }
    state.pending = null;
    composer.resizeInput();
    if (state.conversationId === null) adoptConversation(frame.conversation, frame.title);
  } else if (frame.fork && isOpen(frame)) {
    // Another tab forked this conversation: show the branch it is on now.
    upsertSidebar(frame.conversation, frame.title, true);
    forked.add(String(frame.message));
    loadThread();
    return;
  }
  if (frame.fork) forked.add(String(frame.message));
  if (typeof frame.content === "string" && !userText) userText = frame.content;
  if (!isOpen(frame)) {
    if (frame.conversation != null) upsertSidebar(frame.conversation, frame.title, true);
    composer.updateControls();
    return;
  }
  upsertSidebar(frame.conversation, frame.title, true);
  if (frame.title && frame.title !== state.title) setOpenTitle(frame.title);
  const user = appendMessage({
    id: frame.user_message, role: "user", content: userText, status: "done", attachments: attached || [],
  });
  if (!mine && !userText) user.wrapper.classList.add("is-remote");
  const reply = appendMessage({
    id: frame.message, role: "assistant", content: "", model: frame.model, status: "streaming",
    parameters: frame.parameters, // (extension) what it is sent with: the meta says it from the start
  });
  reply.status = "streaming";
  reply.seq = 0;
  renderNow(reply);
  composer.setStreaming(frame.message);
  followBottom();
  scrollToBottom();
}

function onDelta(frame) {
  if (!isOpen(frame)) return;
  let m = messages.get(String(frame.message));
  if (!m) {
    m = appendMessage({ id: frame.message, role: "assistant", content: "", status: "streaming" });
  }
  const seq = Number(frame.seq);
  if (!(seq > m.seq)) return; // already included (snapshot dedupe)
  if (seq > m.seq + 1 && !m.resyncing) {
    // A gap: ask for a snapshot, which replaces the text exactly.
    m.resyncing = true;
    socket.send({ type: "attach", conversation: state.conversationId });
  }
  m.seq = seq;
  m.text += typeof frame.content === "string" ? frame.content : "";
  if (m.status !== "streaming") m.status = "streaming";
  if (state.streamingId !== m.id) composer.setStreaming(m.id);
  scheduleRender(m);
}

function onDone(frame) {
  if (!isOpen(frame)) return;
  const m = messages.get(String(frame.message));
  if (m) {
    m.created = m.created || new Date().toISOString();
    m.status = "done";
    m.finishReason = frame.finish_reason || "";
    m.usage = frame.usage || null;
    m.usageEstimated = !!frame.usage_estimated;
    if (frame.parameters) m.parameters = frame.parameters;
    if (m.finishReason !== "error") { m.errorCode = ""; m.errorMessage = ""; }
    if (frame.model) m.model = frame.model;
    if (frame.served_model) m.servedModel = frame.served_model;
    renderNow(m);
  }
  if (state.streamingId === String(frame.message) || state.streamingId === null) {
    composer.setStreaming(null);
    announce(_("Reply finished"));
  }
  // A reply on a new branch: fetch the versions the fork made. Otherwise compare what arrived with
  // what the server saved (its last seq and length in characters): only a reply that lost a frame
  // on the way, say across a reload or a reconnect, is fetched again and mended.
  // A failure whose error frame this page missed: the saved reply says why.
  const reasonMissed = m && m.finishReason === "error" && !m.errorCode;
  if (forked.delete(String(frame.message))) loadThread();
  else if (!sawEverything(m, frame) || reasonMissed) reconcileFromServer();
}

function sawEverything(m, frame) {
  if (!m || typeof frame.seq !== "number" || typeof frame.length !== "number") return false;
  return m.seq === frame.seq && codePoints(m.text) === frame.length;
}

function onSnapshot(frame) {
  if (!isOpen(frame)) return;
  const wasStreaming = state.streamingId;
  const reconcile = reconcileOnSnapshot;
  reconcileOnSnapshot = false;
  if (frame.message === null || frame.message === undefined) {
    if (wasStreaming !== null) {
      // The reply ended while we were not listening: fetch how it ended.
      const m = messages.get(wasStreaming);
      if (m) { m.status = "done"; renderNow(m); }
      composer.setStreaming(null);
    }
    if (reconcile || wasStreaming !== null) reconcileFromServer();
    return;
  }
  let m = messages.get(String(frame.message));
  if (!m) {
    m = appendMessage({ id: frame.message, role: "assistant", content: "", status: "streaming" });
  }
  m.text = typeof frame.content === "string" ? frame.content : "";
  m.seq = Number(frame.seq) || 0;
  m.resyncing = false;
  if (frame.streaming) {
    m.status = "streaming";
    composer.setStreaming(m.id);
    scheduleRender(m);
    if (reconcile) reconcileFromServer();
  } else {
    m.status = "done";
    renderNow(m);
    if (state.streamingId === m.id) composer.setStreaming(null);
    reconcileFromServer();
  }
}

function onConversation(frame) {
  if (frame.conversation == null) return;
  if (isOpen(frame)) setOpenTitle(frame.title);
  upsertSidebar(frame.conversation, frame.title, false);
}

// What refuses a frame of this page's (a stop, an attach) while a reply runs; any other error about
// the open conversation then is that reply failing, and its `done` ("error") follows.
const REFUSALS = new Set(["bad_request", "too_large", "not_found", "busy", "rate_limited"]);

function onError(frame) {
  // A document too long for the model is not "the message is too long": the server's words name it.
  const aboutFile = frame.code === "too_large" && frame.attachment != null && frame.message;
  const text = aboutFile ? frame.message : reasonFor(frame.code, frame.message);
  if (state.pending !== null && frame.id === state.pending.id) {
    state.pending = null; // the composer keeps the text, and the chips their files
    composer.updateControls();
    // A document longer than the model can take: its chip asks what part to send.
    if (frame.code === "too_large" && frame.attachment != null && composer.offerExcerpt(frame)) return;
    composer.focus();
    warnOrShow(frame, text);
    return;
  }
  if (frame.conversation != null && state.conversationId !== null && frame.conversation !== state.conversationId) {
    return; // about another conversation: not this transcript's business
  }
  const failing = state.streamingId !== null ? messages.get(state.streamingId) : null;
  if (failing && frame.conversation === state.conversationId && !REFUSALS.has(frame.code)) {
    // The reply failed: a card in its place says why (renderError in transcript.js), not a banner.
    failing.errorCode = frame.code || "upstream_error";
    failing.errorMessage = frame.message || "";
    announce(text);
    return;
  }
  warnOrShow(frame, text);
}

/** Sending too fast and a budget used up are told beside the composer; anything else in the banner. */
function warnOrShow(frame, text) {
  if (frame.code === "rate_limited" && Number(frame.retry_after) > 0) {
    composer.showRateLimit(Number(frame.retry_after));
  } else if (frame.code === "quota_exceeded") {
    composer.showQuotaExceeded(frame.resets);
  } else {
    showError(text);
  }
}

// ---- the socket's ups and downs ----------------------------------------------------------------

export const connection = {
  onFrame: handleFrame,
  onStatus: composer.setConnectionStatus,
  onOpen(reconnected) {
    reconcileOnSnapshot = reconnected;
    if (state.conversationId !== null) socket.send({ type: "attach", conversation: state.conversationId });
    if (state.pending && state.pending.frame) {
      socket.send(state.pending.frame);
      state.pending.frame = null;
    }
  },
  onClose() {
    if (state.pending && !state.pending.frame) {
      state.pending = null;
      showError(_("The connection dropped before the server confirmed your message. It is still in the box below: check the conversation before sending it again."));
      composer.updateControls();
    }
  },
  onSignedOut() {
    state.pending = null;
    composer.setStreaming(null);
    composer.setConnectionStatus(_("Signed out"));
    showError(_("You have been signed out of the chat. Reload the page to log in again."));
  },
};

// ---- the thread as the server saved it -------------------------------------------------------

/** Shows the branch the server sent: every message rendered again, with its versions. */
export function showThread(list) {
  replaceAll(list);
  const last = list[list.length - 1];
  composer.setStreaming(last && last.role === "assistant" && last.status === "streaming" ? last.id : null);
  renderAllActions();
}

export function loadThread() {
  if (state.conversationId === null) return Promise.resolve();
  const id = state.conversationId;
  state.threadLoads += 1;
  return getJSON(urlFor(urls.thread, id))
    .then((data) => { if (data && id === state.conversationId) showThread(data.messages); })
    .catch(() => {})
    .finally(() => { state.threadLoads -= 1; });
}

/** Brings the transcript in line with the server after missed frames (the branch on show). */
function reconcileFromServer() {
  if (state.conversationId === null) return;
  const id = state.conversationId;
  getJSON(urlFor(urls.thread, id))
    .then((data) => {
      if (!data || id !== state.conversationId || !Array.isArray(data.messages)) return;
      const onServer = new Set(data.messages.map((d) => String(d.id)));
      const shown = Array.from(messages.keys());
      if (shown.some((key) => !onServer.has(key) && key !== state.streamingId)) {
        showThread(data.messages); // another tab switched branches meanwhile
        return;
      }
      for (const d of data.messages) {
        const key = String(d.id);
        if (key === state.streamingId) continue; // live frames own it
        const m = messages.get(key);
        if (!m) {
          appendMessage({ ...d, status: "done" });
          continue;
        }
        m.versions = (d.versions || []).map(String);
        m.feedback = d.feedback || null;
        if (m.role !== "assistant") { renderActions(m); continue; }
        const reason = d.finish_reason || "";
        const code = d.error_code || "";
        if (m.status === "done" && m.text === (d.content || "") && m.finishReason === reason && m.errorCode === code) { renderActions(m); continue; }
        m.text = d.content || "";
        m.status = "done";
        m.finishReason = reason;
        m.errorCode = code;
        m.errorMessage = d.error_message || "";
        m.usage = d.usage || null;
        m.usageEstimated = !!(d.usage && d.usage.estimated);
        m.parameters = d.parameters || null;
        if (d.model && !m.model) m.model = d.model;
        scheduleRender(m);
      }
    })
    .catch(() => {});
}

// ---- the open conversation: its title, URL, export links and sidebar entry ----------------------

function upsertSidebar(id, newTitle, moveToTop) {
  Sidebar.upsert(id, newTitle, moveToTop);
  if (String(id) === String(state.conversationId)) Sidebar.markCurrent(id);
}

function setDocumentTitle() {
  const shown = state.conversationId === null && !state.title ? _("New chat") : displayTitle(state.title);
  document.title = shown + " · TokenOff Chat";
}

export function setOpenTitle(newTitle) {
  state.title = newTitle || "";
  if (chatTitle) chatTitle.textContent = displayTitle(state.title);
  setDocumentTitle();
}

function adoptConversation(id, newTitle) {
  state.conversationId = id;
  const path = urlFor(urls.conversation, id);
  if (location.pathname !== path) history.pushState({ conversation: id }, "", path);
  upsertSidebar(id, newTitle, true);
  setOpenTitle(newTitle);
  if (exportLinks) {
    exportLinks.querySelector('[data-export="json"]').href = urlFor(urls.exportJson, id);
    exportLinks.querySelector('[data-export="md"]').href = urlFor(urls.exportMd, id);
    exportLinks.hidden = false;
  }
  app.setAttribute("data-conversation", String(id));
}
