// The token meter under the composer: what the next send would count (the branch on show, the
// system prompt and the draft) against the model's context window, and the input's cost. The
// server counts (POST /c/count.json, docs/protocol.md), with the ranks it ships: as you type
// (debounced), on a change of model, and when the transcript changes (a reply, another branch).
import { announce, state } from "./store.js";
import { _, format, formatNumber, post } from "./util.js";

const DEBOUNCE_MS = 300;
const NEAR_SHARE = 0.9; // from here on, the meter warns

const meter = document.getElementById("token-meter");
const bar = meter ? meter.querySelector(".token-meter-bar") : null;
const fill = meter ? meter.querySelector(".token-meter-fill") : null;
const label = meter ? meter.querySelector(".token-meter-text") : null;
const input = document.getElementById("composer-input");
const modelSelect = document.getElementById("model-select");
const systemPrompt = document.getElementById("system-prompt");

let timer = null;
let asked = 0; // the latest request's number: an older answer arriving late is dropped
let level = "ok"; // ok, near or over: announced when it changes, never on every count
let attached = 0; // the tokens of the files waiting in the composer (composer-attachments.js)
let last = null; // the server's latest count, shown again when the files change

function lang() {
  return document.documentElement.lang || undefined;
}

/** "$0.0031": a cent's fraction keeps two significant digits, so a small send does not read $0.00. */
function money(cost) {
  const amount = Number(cost.amount);
  const options = { style: "currency", currency: cost.currency };
  if (amount > 0 && amount < 0.01) options.maximumSignificantDigits = 2;
  else options.maximumFractionDigits = 4;
  try {
    return new Intl.NumberFormat(lang(), options).format(amount);
  } catch {
    return cost.amount + " " + cost.currency; // a code Intl does not know
  }
}

function levelOf(count) {
  if (!count.fits) return "over";
  return count.window && count.tokens >= count.window * NEAR_SHARE ? "near" : "ok";
}

function show(answer) {
  last = answer;
  // The files waiting to be sent count too: the server counted the branch and the draft.
  const total = answer.tokens + attached;
  const count = { ...answer, tokens: total, fits: answer.window ? total < answer.window : true };
  const tokens = formatNumber(count.tokens);
  const parts = [count.window
    ? format(_("%(tokens)s / %(window)s tokens"), { tokens, window: formatNumber(count.window) })
    : format(_("%(tokens)s tokens"), { tokens })];
  if (count.cost) parts.push(format(_("≈ %(cost)s"), { cost: money(count.cost) }));
  if (!count.exact) parts.push(_("estimate"));
  label.textContent = parts.join(" · ");
  meter.title = count.exact ? "" : _("Counted with the GPT-4o tokenizer: this model's own may count a little differently.");
  bar.hidden = !count.window;
  if (count.window) {
    bar.setAttribute("aria-valuemax", String(count.window));
    bar.setAttribute("aria-valuenow", String(Math.min(count.tokens, count.window)));
    bar.setAttribute("aria-valuetext", label.textContent);
    fill.style.width = Math.min(100, (count.tokens / count.window) * 100) + "%";
  }
  const now = levelOf(count);
  meter.classList.toggle("is-near", now === "near");
  meter.classList.toggle("is-over", now === "over");
  meter.dataset.tokens = String(count.tokens);
  meter.dataset.window = count.window ? String(count.window) : "";
  meter.hidden = false;
  if (now !== level && now !== "ok") {
    announce(now === "over"
      ? _("The conversation no longer fits in this model's context window.")
      : _("The conversation nearly fills this model's context window."));
  }
  level = now;
}

function count() {
  timer = null;
  const fields = { conversation: state.conversationId ?? "", model: modelSelect ? modelSelect.value : "", draft: input.value };
  // A new chat starts with the panel's system prompt, as a send does (composer.js).
  if (state.conversationId === null && systemPrompt) fields.system_prompt = systemPrompt.value;
  const number = ++asked;
  post(meter.dataset.url, fields)
    .then((answer) => { if (number === asked) show(answer); })
    .catch(() => { if (number === asked) meter.hidden = true; }); // too long, or the server away: no meter
}

/** Counts again shortly: a burst of keystrokes makes one request. */
export function refresh() {
  if (!meter) return;
  clearTimeout(timer);
  timer = setTimeout(count, DEBOUNCE_MS);
}

export function init() {
  if (!meter || !input) return;
  input.addEventListener("input", refresh);
  if (modelSelect) modelSelect.addEventListener("change", refresh);
  document.addEventListener("tokenoff:attachments", (event) => {
    attached = event.detail.tokens;
    if (last) show(last);
  });
  if (systemPrompt) systemPrompt.addEventListener("input", refresh);
  // A message added, removed or swapped for another version changes the branch that is sent.
  const list = document.getElementById("messages");
  if (list) new MutationObserver(refresh).observe(list, { childList: true });
  count();
}
