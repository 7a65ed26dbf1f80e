// Where the context sent upstream starts (chat/conversations/context.py): a line in the transcript
// before the first message sent after a cut ("Earlier messages are not sent to the model") with
// "Summarise earlier messages", and the summary sent in their place, collapsed, after the last
// message it covers. Asked of GET /c/<id>/context/ whenever no reply is being written.
import { announce, busy, showError, state, urls } from "./store.js";
import { _, format, formatNumber, getJSON, post, urlFor } from "./util.js";

const list = document.getElementById("messages");
let asked = 0; // the latest question wins: an older answer arriving late is dropped

function contextUrl() {
  return urlFor(urls.conversation + "context/", state.conversationId);
}

function wrapperOf(id) {
  return id === null || id === undefined ? null : list.querySelector(`[data-wrapper-for="${id}"]`);
}

function summaryBlock(summary) {
  const details = document.createElement("details");
  details.className = "context-summary";
  details.dataset.contextItem = "summary";
  const title = document.createElement("summary");
  title.textContent = format(_("Summary of %(count)s earlier messages"), { count: formatNumber(summary.covered) });
  const body = document.createElement("div");
  body.className = "context-summary-body";
  body.textContent = summary.content;
  const note = document.createElement("p");
  note.className = "context-summary-note";
  note.textContent = _("Sent to the model in place of the messages it covers; they stay in the history.");
  details.append(title, body, note);
  return details;
}

function marker() {
  const line = document.createElement("div");
  line.className = "context-marker";
  line.dataset.contextItem = "marker";
  line.setAttribute("role", "note");
  const words = document.createElement("span");
  words.className = "context-marker-text";
  words.textContent = _("Earlier messages are not sent to the model");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary context-summarise";
  button.textContent = _("Summarise earlier messages");
  button.disabled = busy();
  button.addEventListener("click", () => summarise(button));
  line.append(words, button);
  return line;
}

function show(context) {
  for (const item of list.querySelectorAll("[data-context-item]")) item.remove();
  if (!context) return;
  if (context.summary) {
    const after = wrapperOf(context.summary.until);
    if (after) after.after(summaryBlock(context.summary));
  }
  const start = wrapperOf(context.context_start);
  if (start && context.left_out > 0) start.before(marker());
}

function summarise(button) {
  if (busy()) return;
  button.disabled = true;
  button.textContent = _("Summarising…");
  const conversation = state.conversationId;
  post(contextUrl(), {})
    .then((context) => {
      if (state.conversationId !== conversation) return;
      show(context);
      announce(_("Summary written: it is sent in place of the earlier messages"));
    })
    .catch((error) => {
      showError(error.message);
      button.disabled = false;
      button.textContent = _("Summarise earlier messages");
    });
}

/** Asks where the context starts and draws it; while a reply is being written, only waits. */
export function refreshContext() {
  for (const button of list.querySelectorAll(".context-summarise")) button.disabled = busy();
  if (state.conversationId === null || busy()) return;
  const conversation = state.conversationId;
  const mine = ++asked;
  getJSON(contextUrl()).then((context) => {
    if (mine === asked && state.conversationId === conversation && !busy()) show(context);
  });
}
