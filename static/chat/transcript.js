// The transcript: each message's element (cloned from the <template>s Django renders from
// templates/chat/message.html, so the markup lives there once), its Markdown, its line of facts
// and its action buttons; rendering batched per animation frame; sticking to the bottom.
import { renderAttachments } from "./attachment-views.js";
import { refreshContext } from "./context.js";
import { modelLabel } from "./picker.js";
import { renderMarkdown } from "./render.js";
import { busy, messages, reasonFor, state } from "./store.js";
import { _, format, formatNumber } from "./util.js";

const NEAR_BOTTOM_PX = 48;

const FINISH_NOTICES = {
  stopped: _("Stopped"),
  error: _("Failed"),
  interrupted: _("Interrupted"),
  length: _("Cut off at the length limit"),
  content_filter: _("Stopped by the content filter"),
};

const transcript = document.getElementById("transcript");
export const messageList = document.getElementById("messages");
const emptyState = document.getElementById("empty-state");

// ---- scrolling -----------------------------------------------------------------------------

let stickToBottom = true;

function isNearBottom() {
  return transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < NEAR_BOTTOM_PX;
}

export function scrollToBottom() {
  transcript.scrollTop = transcript.scrollHeight;
}

/** Follows the transcript's end again (a new reply is coming), wherever the reader had scrolled. */
export function followBottom() {
  stickToBottom = true;
}

if (transcript) {
  transcript.addEventListener("scroll", () => { stickToBottom = isNearBottom(); }, { passive: true });
}

// ---- messages ------------------------------------------------------------------------------

export function updateEmptyState() {
  if (emptyState) emptyState.hidden = messages.size > 0;
}

/** A message's elements from the page's <template> for its role; the body holds only its text. */
function createMessageElement(role, id) {
  const template = document.getElementById("message-template-" + role);
  const wrapper = template.content.firstElementChild.cloneNode(true);
  wrapper.setAttribute("data-wrapper-for", String(id));
  const body = wrapper.querySelector(".message-body");
  body.classList.remove("is-raw"); // rendered by the script from the start
  body.setAttribute("data-role", role);
  body.setAttribute("data-message", String(id));
  return { wrapper, body, meta: wrapper.querySelector(".message-meta") };
}

/** Whether the upstream gave no count, so the reply's usage was estimated from its text. */
function isEstimated(data) {
  return !!(data.usage_estimated || (data.usage && typeof data.usage === "object" && data.usage.estimated));
}

function registerMessage(data, elements) {
  const m = {
    id: String(data.id),
    role: data.role,
    body: elements.body,
    wrapper: elements.wrapper,
    meta: elements.meta,
    text: data.content || "",
    seq: 0,
    status: data.status || "done",
    finishReason: data.finish_reason || "",
    usage: data.usage || null,
    usageEstimated: isEstimated(data),
    errorCode: data.error_code || "",
    errorMessage: data.error_message || "",
    card: elements.wrapper.querySelector(".message-error"),
    model: data.model || "",
    servedModel: data.served_model || "",
    parameters: data.parameters || null,
    versions: (data.versions || []).map(String),
    feedback: data.feedback || null,
    created: data.created || null,
    actions: elements.wrapper.querySelector(".message-actions"),
    // A question's files (attachment-views.js draws them; an edit form starts from them).
    attachments: Array.isArray(data.attachments) ? data.attachments : [],
    attachmentRow: elements.wrapper.querySelector(".message-attachments"),
    resyncing: false,
  };
  messages.set(m.id, m);
  return m;
}

/** Adds a message at the end of the transcript (or returns the one already there). */
export function appendMessage(data) {
  const existing = messages.get(String(data.id));
  if (existing) return existing;
  const elements = createMessageElement(data.role, data.id);
  messageList.append(elements.wrapper);
  const m = registerMessage(data, elements);
  if (m.role === "user") {
    m.body.textContent = m.text;
    renderAttachments(m.attachmentRow, m.attachments);
  } else {
    renderNow(m);
  }
  updateEmptyState();
  return m;
}

/** Adopts the server-rendered messages, then renders assistant ones as Markdown. */
export function adoptServerMessages(initialMessages) {
  const byId = new Map((initialMessages || []).map((d) => [String(d.id), d]));
  for (const body of messageList.querySelectorAll("[data-role][data-message]")) {
    const id = body.getAttribute("data-message");
    const role = body.getAttribute("data-role");
    const data = byId.get(id) || { id, role, content: body.textContent, status: "done" };
    const wrapper = body.closest(".message");
    const meta = wrapper ? wrapper.querySelector(".message-meta") : null;
    const m = registerMessage(data, { wrapper, body, meta });
    if (role === "assistant") {
      body.classList.remove("is-raw");
      renderNow(m);
    } else {
      renderActions(m);
    }
  }
  updateEmptyState();
}

/** Drops the message and everything after it: a fork replaces them with a new branch. */
export function removeFrom(id) {
  let found = false;
  for (const [key, m] of Array.from(messages.entries())) {
    if (key === String(id)) found = true;
    if (found) { m.wrapper.remove(); messages.delete(key); }
  }
  updateEmptyState();
}

/** Empties the transcript, then shows the given messages (a branch the server sent). */
export function replaceAll(list) {
  for (const m of messages.values()) m.wrapper.remove();
  messages.clear();
  for (const data of list) appendMessage(data);
}

// ---- the line of facts under a reply ----------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

/** What a reply was sent with, as the meta says it: its effort, temperature and longest reply. */
function parameterParts(p) {
  if (!p || typeof p !== "object") return [];
  const parts = [];
  if (typeof p.reasoning_effort === "string") parts.push(format(_("effort %s"), [p.reasoning_effort]));
  if (typeof p.temperature === "number") parts.push(format(_("temperature %s"), [formatNumber(p.temperature)]));
  if (typeof p.max_tokens === "number") parts.push(format(_("at most %s tokens"), [formatNumber(p.max_tokens)]));
  return parts;
}

/** " (900 cached, 300 reasoning)": what the upstream said of the counts, when it did. */
function tokenDetails(u) {
  const cached = u.prompt_tokens_details && u.prompt_tokens_details.cached_tokens;
  const reasoning = u.completion_tokens_details && u.completion_tokens_details.reasoning_tokens;
  const details = [];
  if (typeof cached === "number" && cached > 0) details.push(format(_("%s cached"), [formatNumber(cached)]));
  if (typeof reasoning === "number" && reasoning > 0) details.push(format(_("%s reasoning"), [formatNumber(reasoning)]));
  return details.length ? " (" + details.join(", ") + ")" : "";
}

function renderMeta(m) {
  if (!m.meta) return;
  m.meta.replaceChildren();
  m.wrapper.classList.toggle("is-streaming", m.status === "streaming");
  if (m.status === "streaming") {
    const writing = document.createElement("span");
    writing.className = "meta-writing";
    writing.textContent = _("Writing…");
    m.meta.append(writing);
    // What the reply is being written with (started.parameters), already while it streams.
    for (const part of parameterParts(m.parameters)) {
      const span = document.createElement("span");
      span.className = "meta-item";
      span.textContent = part;
      m.meta.append(span);
    }
    return;
  }
  const parts = [];
  // The catalogue's label for the model asked for; the name the upstream served in a tooltip.
  const asked = m.model || m.servedModel;
  if (asked) {
    const model = document.createElement("span");
    model.className = "meta-item meta-model";
    model.textContent = modelLabel(asked);
    if (m.servedModel && m.servedModel !== model.textContent) {
      model.title = format(_("Served by %s"), [m.servedModel]);
      model.dataset.served = m.servedModel;
    }
    m.meta.append(model);
  }
  parts.push(...parameterParts(m.parameters));
  const u = m.usage;
  // A failed call that got nothing back cost nothing: no "0 tokens" beside its card.
  const costNothing = m.finishReason === "error" && !(u && u.total_tokens);
  if (u && typeof u === "object" && !costNothing) {
    if (u.total_tokens != null && m.usageEstimated) {
      parts.push(format(_("≈ %s tokens (estimated)"), [formatNumber(u.total_tokens)]));
    } else if (u.total_tokens != null) {
      parts.push(format(_("%s tokens"), [formatNumber(u.total_tokens)]) + tokenDetails(u));
    } else if (u.prompt_tokens != null || u.completion_tokens != null) {
      parts.push(format(_("%(in)s in · %(out)s out"), { in: formatNumber(u.prompt_tokens || 0), out: formatNumber(u.completion_tokens || 0) }));
    }
  }
  for (const part of parts) {
    const span = document.createElement("span");
    span.className = "meta-item";
    span.textContent = part;
    m.meta.append(span);
  }
  const when = m.created ? new Date(m.created) : null;
  if (when && !isNaN(when)) {
    // The browser's own time zone and the page's language.
    const time = document.createElement("time");
    time.className = "meta-item";
    time.dateTime = when.toISOString();
    time.textContent = dateFormat.format(when);
    m.meta.append(time);
  }
  const reason = m.finishReason;
  if (reason && reason !== "stop") {
    const notice = document.createElement("span");
    notice.className = "meta-notice notice-" + reason.replace(/[^a-z_]/gi, "");
    notice.setAttribute("data-finish", reason);
    notice.textContent = FINISH_NOTICES[reason] || format(_("Ended: %s"), [reason]);
    m.meta.append(notice);
  }
}

// ---- rendering -----------------------------------------------------------------------------

const dirty = new Set();
let frameRequested = false;

/** Renders one message now: its text (Markdown for a reply), its facts and its buttons. */
export function renderNow(m) {
  dirty.delete(m.id);
  if (m.role === "user") {
    m.body.textContent = m.text;
  } else {
    renderMarkdown(m.body, m.text, { final: m.status !== "streaming" });
    m.body.classList.toggle("is-empty", m.text === "");
    renderMeta(m);
  }
  renderActions(m);
  if (stickToBottom) scrollToBottom();
}

/** Renders the message at the next animation frame, once however many deltas came meanwhile. */
export function scheduleRender(m) {
  dirty.add(m.id);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    for (const id of Array.from(dirty)) {
      const msg = messages.get(id);
      if (msg) renderNow(msg);
    }
    dirty.clear();
  });
}

// ---- the buttons under a message (actions.js handles their clicks) ----------------------------

function actionButton(action, label, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "message-action";
  button.setAttribute("data-message-action", action);
  button.setAttribute("aria-label", label);
  button.title = label;
  button.textContent = text === undefined ? label : text;
  return button;
}

function isLast(m) {
  const all = Array.from(messages.values());
  return all.length > 0 && all[all.length - 1] === m;
}

// Drawn, not an emoji: servers' browsers (and some desktops) have no emoji font.
const THUMB_PATH = "M7 10v11H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3zm2 11h8.3a2 2 0 0 0 2-1.7l1.3-8A2 2 0 0 0 18.6 9H14V5a2 2 0 0 0-2-2l-3 7v11z";

function thumbIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "thumb-icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", THUMB_PATH);
  svg.append(path);
  return svg;
}

/** A reply that ended in an error: it failed, the upstream's words never reach the page. */
function isFailed(m) {
  return m.role === "assistant" && m.status !== "streaming" && m.finishReason === "error";
}

/** The card in a failed reply's place (under its text, when some came): why, and Retry. */
function renderError(m) {
  if (!m.card) return;
  const failed = isFailed(m);
  m.wrapper.classList.toggle("is-failed", failed);
  m.card.replaceChildren();
  m.card.hidden = !failed;
  if (!failed) {
    m.wrapper.removeAttribute("data-error-code");
    return;
  }
  m.wrapper.setAttribute("data-error-code", m.errorCode);
  const reason = document.createElement("p");
  reason.className = "message-error-text";
  reason.textContent = m.errorCode || m.errorMessage ? reasonFor(m.errorCode, m.errorMessage) : _("The reply failed.");
  m.card.append(reason);
  if (isLast(m)) {
    // A regeneration of this reply: actions.js handles it as the Regenerate button.
    const retry = actionButton("regenerate", _("Retry this reply"), _("Retry"));
    retry.classList.add("message-retry");
    retry.disabled = busy();
    m.card.append(retry);
  }
}

export function renderActions(m) {
  if (m.role === "assistant") renderError(m);
  if (!m.actions) return;
  m.actions.replaceChildren();
  if (m.status === "streaming") return;
  const isBusy = busy();
  if (m.versions.length > 1) {
    const at = m.versions.indexOf(m.id);
    const nav = document.createElement("span");
    nav.className = "message-versions";
    const previous = actionButton("version-previous", _("Previous version"), "‹");
    previous.disabled = isBusy || at <= 0;
    previous.dataset.target = m.versions[at - 1] || "";
    const next = actionButton("version-next", _("Next version"), "›");
    next.disabled = isBusy || at >= m.versions.length - 1;
    next.dataset.target = m.versions[at + 1] || "";
    const count = document.createElement("span");
    count.className = "message-version-count";
    count.textContent = format(_("%(at)s / %(of)s"), { at: at + 1, of: m.versions.length });
    nav.append(previous, count, next);
    m.actions.append(nav);
  }
  const failed = isFailed(m);
  // An empty failed reply has nothing to copy or rate: its card stands in its place.
  if (failed && m.text === "") return;
  m.actions.append(actionButton("copy", _("Copy message"), _("Copy")));
  if (m.role === "user") {
    const edit = actionButton("edit", _("Edit message"), _("Edit"));
    edit.disabled = isBusy || state.conversationId === null;
    m.actions.append(edit);
    return;
  }
  if (isLast(m) && !failed) { // a failed one has Retry in its card
    const again = actionButton("regenerate", _("Regenerate reply"), _("Regenerate"));
    again.disabled = isBusy;
    m.actions.append(again);
  }
  const rating = m.feedback ? m.feedback.rating : 0;
  const up = actionButton("thumbs-up", _("Good reply"), "");
  up.append(thumbIcon());
  up.setAttribute("aria-pressed", String(rating === 1));
  const down = actionButton("thumbs-down", _("Bad reply"), "");
  down.append(thumbIcon());
  down.setAttribute("aria-pressed", String(rating === -1));
  m.actions.append(up, down);
}

export function renderAllActions() {
  for (const m of messages.values()) renderActions(m);
  refreshContext(); // a reply began or ended, or the branch changed: where the context starts may move
}
