// The composer: the message box (Enter sends, Shift+Enter adds a line), the model picker, the Send
// and Stop buttons, the length count, the token meter (meter.js), the connection status and the
// warnings (budget, sending too fast); starting a reply (send, edit, regenerate) and stopping one.
import * as attachments from "./composer-attachments.js";
import * as meter from "./meter.js";
import * as picker from "./picker.js";
import * as socket from "./socket.js";
import { MAX_CONTENT, announce, app, busy, hideError, initial, showError, state } from "./store.js";
import { followBottom, renderAllActions } from "./transcript.js";
import { _, codePoints, format, formatNumber, randomId } from "./util.js";

const composer = document.getElementById("composer");
const input = composer ? composer.querySelector('textarea[name="content"]') : null;
const modelSelect = composer ? composer.querySelector('select[name="model"]') : null;
const sendButton = composer ? composer.querySelector('[data-action="send"]') : null;
const stopButton = composer ? composer.querySelector('[data-action="stop"]') : null;
const charCount = document.getElementById("char-count");
const connectionStatus = document.getElementById("connection-status");
const systemPrompt = document.getElementById("system-prompt");
const modelSettings = document.getElementById("model-settings");

const supportsFieldSizing = typeof CSS !== "undefined" && CSS.supports && CSS.supports("field-sizing", "content");

export function focus() {
  input.focus();
}

export function resizeInput() {
  if (supportsFieldSizing) return;
  const lines = input.value.split("\n").length;
  input.rows = Math.max(1, Math.min(10, lines));
}

/** Empties the box once the server took what was sent (unless the person already typed on), and
 * the chips of the files it carried. */
export function clearSent(content, sentAttachments) {
  if (input.value === content) input.value = "";
  attachments.clearSent(sentAttachments);
}

/** A `too_large` error about one attached document: its chip asks what to send; false if none. */
export function offerExcerpt(frame) {
  return attachments.offerExcerpt(frame, () => trySend());
}

export function setConnectionStatus(text) {
  if (!connectionStatus) return;
  connectionStatus.textContent = text;
  connectionStatus.hidden = !text;
}

// ---- streaming state and controls -------------------------------------------------------

let lastBusy = null;

export function setStreaming(id) {
  state.streamingId = id === null || id === undefined ? null : String(id);
  updateControls();
  if (state.streamingId === null) meter.refresh(); // the reply is now part of what the next send sends
}

/** Brings the buttons in line with the state; the messages' buttons too when busy changed. */
export function updateControls() {
  const streaming = state.streamingId !== null;
  app.classList.toggle("is-streaming", streaming);
  stopButton.hidden = !streaming;
  stopButton.disabled = !streaming;
  sendButton.hidden = streaming;
  const text = input.value;
  const length = codePoints(text);
  const tooLong = length > MAX_CONTENT;
  // Uploads in progress (or refused ones still there): Send waits, and says why (composer-attachments.js).
  const waiting = attachments.blockReason();
  const empty = text.trim() === "" && !attachments.hasFiles(); // files alone make a message
  sendButton.disabled = streaming || state.pending !== null || empty || tooLong || waiting !== "";
  sendButton.title = waiting;
  if (charCount) {
    const show = length > MAX_CONTENT * 0.9;
    charCount.hidden = !show;
    charCount.textContent = show ? formatNumber(length) + " / " + formatNumber(MAX_CONTENT) : "";
    charCount.classList.toggle("is-over", tooLong);
  }
  composer.classList.toggle("is-pending", state.pending !== null);
  const isBusy = busy();
  if (isBusy !== lastBusy) {
    lastBusy = isBusy;
    renderAllActions();
  }
}

// ---- the composer's warnings: a budget nearly or wholly used, sending too fast -----------------

const budgetNotice = document.getElementById("budget-notice");
const rateNotice = document.getElementById("rate-notice");
let rateTimer = null;

/** Plural-aware, with the JS catalogue's ngettext when it is there. */
function ngettext(singular, plural, n) {
  return window.ngettext ? window.ngettext(singular, plural, n) : (n === 1 ? singular : plural);
}

function setNotice(element, text) {
  if (!element) return;
  element.querySelector(".composer-notice-text").textContent = text || "";
  element.hidden = !text;
}

/** A day ("2025-07-01") in the page's language; "" for anything else. */
function longDate(iso) {
  const [year, month, day] = String(iso || "").split("-").map(Number);
  if (!year || !month || !day) return "";
  const lang = document.documentElement.lang || undefined;
  return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone: "UTC" }).format(new Date(Date.UTC(year, month - 1, day)));
}

/**
 * The budget warning a `started` carries (`notice`, English, with `budget`: its share and the day it
 * resets), said again in the page's language; none hides it.
 */
export function showBudgetNotice(notice, budget) {
  if (!notice) { setNotice(budgetNotice, ""); return; }
  // The frame's `budget` says it in numbers (share 0-1, resets YYYY-MM-DD); without it, the English words.
  const share = budget && typeof budget.share === "number" ? budget.share : null;
  const resets = longDate(budget && budget.resets ? budget.resets : budgetNotice && budgetNotice.dataset.resets);
  if (share === null || !resets) { setNotice(budgetNotice, notice); return; }
  const percent = new Intl.NumberFormat(document.documentElement.lang || undefined, { style: "percent" });
  const text = format(_("%(share)s of the monthly budget is used. It resets on %(date)s."), {
    share: percent.format(Math.floor(share * 100) / 100), date: resets,
  });
  setNotice(budgetNotice, text);
}

/** A send refused because a monthly budget is used up (`resets`: the day it starts again). */
export function showQuotaExceeded(resets) {
  const day = longDate(resets);
  setNotice(budgetNotice, day
    ? format(_("The monthly budget is used up. It resets on %s."), [day])
    : _("The monthly budget is used up."));
}

/** A send refused for sending too fast: a countdown to when the next one is accepted, then gone. */
export function showRateLimit(seconds) {
  const until = Date.now() + seconds * 1000;
  clearInterval(rateTimer);
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(rateTimer);
      rateTimer = null;
      setNotice(rateNotice, "");
      return;
    }
    setNotice(rateNotice, format(ngettext(
      "You are sending messages too fast. You can send again in %s second.",
      "You are sending messages too fast. You can send again in %s seconds.",
      left,
    ), [formatNumber(left)]));
  };
  tick();
  rateTimer = setInterval(tick, 1000);
}

// ---- starting and stopping a reply --------------------------------------------------------

function trySend() {
  if (busy()) return;
  const content = input.value;
  if (content.trim() === "" && !attachments.hasFiles()) return;
  const length = codePoints(content);
  if (length > MAX_CONTENT) {
    showError(format(_("The message is too long: %(length)s characters, at most %(max)s."), { length: formatNumber(length), max: formatNumber(MAX_CONTENT) }));
    return;
  }
  const waiting = attachments.blockReason();
  if (waiting) { announce(waiting); return; }
  const model = modelSelect ? modelSelect.value : "";
  if (!attachments.readyFor(model, () => trySend())) return;
  const frame = { type: "send", conversation: state.conversationId, content: content };
  const files = attachments.frameValue();
  if (files) frame.attachments = files;
  if (state.conversationId === null) {
    // A new chat starts with the system prompt of the panel (the user's default unless changed)
    // and its model settings; from then on the conversation keeps them (conversation-settings.js).
    if (systemPrompt) frame.system_prompt = systemPrompt.value;
    if (initial.project) frame.project = initial.project; // (extension) a new chat in a project
    if (state.assistant) frame.assistant = state.assistant; // (extension) from an assistant (assistants.js)
    const invalid = invalidSetting();
    if (invalid) {
      showError(format(_("Check the model settings: %s"), [invalid.validationMessage]));
      return;
    }
    const chosen = chosenParameters();
    if (Object.keys(chosen).length) frame.parameters = chosen;
  }
  startReply(frame, { content, attachments: files ? attachments.shown() : null });
}

/** The model settings' fields the chosen model takes (conversation-settings.js shows only those). */
function parameterControls() {
  if (!modelSettings || modelSettings.hidden) return [];
  return Array.from(modelSettings.querySelectorAll("[data-parameter]"))
    .filter((field) => !field.hidden)
    .map((field) => field.querySelector("input, select"))
    .filter(Boolean);
}

/** The panel's model settings as set (text, as the settings form posts them); empty ones are left out. */
function chosenParameters() {
  const chosen = {};
  for (const control of parameterControls()) {
    if (control.value !== "") chosen[control.name] = control.value;
  }
  return chosen;
}

/** A setting out of its range (or no number), which the server would refuse: told before sending. */
function invalidSetting() {
  return parameterControls().find((control) => !control.validity.valid) || null;
}

/** Sends a frame that starts a reply (send, edit or regenerate); `started` or `error` answers it. */
export function startReply(frame, expected) {
  if (busy()) return;
  frame.id = randomId();
  if (modelSelect && modelSelect.value) frame.model = modelSelect.value;
  // Not connected yet (a fresh page, a reconnect): the frame waits and goes out on "open",
  // so typing fast after a page load loses nothing and needs no second try.
  const queued = !socket.send(frame);
  state.pending = {
    id: frame.id, content: expected.content, replaces: expected.replaces || null, frame: queued ? frame : null,
    attachments: expected.attachments || null, // what the question shows until `started` says it
  };
  if (queued) setConnectionStatus(_("Connecting… your message goes out as soon as the server answers"));
  hideError();
  followBottom();
  updateControls();
}

export function stop() {
  if (state.streamingId === null || state.conversationId === null) return;
  if (!socket.send({ type: "stop", conversation: state.conversationId })) {
    showError(_("Not connected to the server, so the reply cannot be stopped right now."));
  }
}

/** Binds the composer's own events. */
export function init() {
  picker.init();
  meter.init();
  attachments.init(input, modelSelect, updateControls);
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
    if (event.isComposing || event.keyCode === 229) return; // IME is composing
    event.preventDefault();
    trySend();
  });
  input.addEventListener("input", () => { resizeInput(); updateControls(); });
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    trySend();
  });
  stopButton.addEventListener("click", (event) => {
    event.preventDefault();
    stop();
  });
}
