// The chat page's state, in one place: the open conversation, its messages, what is in flight;
// the URLs the server gave; and the page-wide notices (error banner, screen reader announcements).
import { _, format } from "./util.js";

export const app = document.getElementById("chat-app");
const stateEl = document.getElementById("chat-state");
/** False where this is not the chat page: main.js then does nothing. */
export const present = !!(app && stateEl);

/** What the server rendered the page with (views._page's initial_state). */
export const initial = present ? JSON.parse(stateEl.textContent) : {};
export const WS_PATH = initial.ws_path || "/ws/chat/";
export const MAX_CONTENT = Number(initial.max_content) || 32000;

const data = present ? app.dataset : {};
export const urls = {
  conversation: data.conversationUrl || "/c/0/",
  exportJson: data.exportJsonUrl || "/c/0/export.json",
  exportMd: data.exportMdUrl || "/c/0/export.md",
  thread: data.threadUrl || "/c/0/thread.json",
  branch: data.branchUrl || "/c/0/branch/",
  feedback: data.feedbackUrl || "/m/0/feedback/",
  home: data.homeUrl || "/",
};

export const state = {
  conversationId: initial.conversation ?? null,
  title: initial.title || "",
  /** The assistant message of the open conversation being written (id string), or null. */
  streamingId: null,
  /** A send not yet answered by `started` or `error`: {id, content, replaces, frame}. */
  pending: null,
  /** Loads of the branch on show in flight (after a fork, a branch switch): the transcript is redrawn. */
  threadLoads: 0,
};

/**
 * message id (string) -> {id, role, body, wrapper, meta, actions, text, seq, status, finishReason,
 * usage, model, servedModel, versions, feedback, created, resyncing}, in transcript order.
 */
export const messages = new Map();

/** A reply is being written or a send awaits its answer: nothing else may start one. */
export function busy() {
  return state.streamingId !== null || state.pending !== null;
}

// ---- page-wide notices ---------------------------------------------------------------------

const errorBanner = document.getElementById("error-banner");
const errorText = document.getElementById("error-text");
const liveRegion = document.getElementById("live-region");

export function announce(text) {
  liveRegion.textContent = "";
  // A fresh text node after a tick, so the same words are announced again.
  setTimeout(() => { liveRegion.textContent = text; }, 50);
}

// Why something failed, in the page's language, by the error's code (docs/protocol.md): the
// server's `message` is English, so it is only the fallback for a code this table does not know
// (no_api_key among them: the server's words say where a key can be added on this site).
const REASONS = {
  bad_request: () => _("The server did not understand that request."),
  too_large: () => _("The message is too long."),
  not_found: () => _("That conversation does not exist."),
  busy: () => _("A reply is already being written in this conversation."),
  model_unavailable: () => _("That model is not available to you."),
  rate_limited: () => _("You are sending messages too fast. Wait a moment, then try again."),
  quota_exceeded: () => _("The monthly budget is used up."),
  upstream_auth: () => _("TokenOff refused the API key. Ask an admin to check it."),
  upstream_rate_limited: () => _("TokenOff is rate limiting this key. Try again in a moment."),
  upstream_unavailable: () => _("TokenOff is unavailable or did not answer in time. Try again in a moment."),
  upstream_error: () => _("TokenOff could not write this reply."),
  context_length_exceeded: () => _("This conversation is longer than the model can read. Start a new chat, or choose a model with a larger context window."),
  unsupported_parameter: () => _("TokenOff refused a setting this model does not take. Ask an admin to correct the model's capabilities in the catalogue."),
  internal_error: () => _("Something went wrong on the server. Try again in a moment."),
};

/** The reason for an error code, translated; the server's own words for a code not known here. */
export function reasonFor(code, message) {
  const known = Object.hasOwn(REASONS, code) ? REASONS[code] : null;
  if (known) return known();
  return message || format(_("Something went wrong (%s)."), [code || "error"]);
}

export function showError(text) {
  errorText.textContent = text || _("Something went wrong.");
  errorBanner.hidden = false;
}

export function hideError() {
  errorBanner.hidden = true;
  errorText.textContent = "";
}
