// The composer's assistant picker: a new chat can start from an assistant (the gallery's "Start a chat"
// opens /?assistant=<id> with it chosen). The server applies the assistant's model, system prompt and
// settings (the send frame's `assistant`, an extension); the model picker follows to show which model.
import { announce, app, state } from "./store.js";
import { _, format } from "./util.js";

const box = document.getElementById("assistant-picker");
const select = document.getElementById("assistant-select");
const modelSelect = document.getElementById("model-select");
let items = [];

function labelOf(item) {
  const name = item.icon ? `${item.icon} ${item.name}` : item.name;
  return item.mine ? name : format(_("%(name)s · %(owner)s"), { name, owner: item.owner });
}

function choose(item) {
  state.assistant = item ? item.id : null;
  box.classList.toggle("is-chosen", !!item);
  if (item && modelSelect && Array.from(modelSelect.options).some((option) => option.value === item.model)) {
    modelSelect.value = item.model;
    // As a person's choice in the picker: picker.js and the composer follow the change.
    modelSelect.dispatchEvent(new Event("input", { bubbles: true }));
    modelSelect.dispatchEvent(new Event("change", { bubbles: true }));
  }
  if (item) announce(format(_("The new chat starts from %s."), [item.name]));
}

async function load() {
  try {
    const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    return response.ok ? (await response.json()).assistants || [] : [];
  } catch {
    return []; // the chat works without the picker
  }
}

export async function init() {
  if (!box || !select || state.conversationId !== null) return;
  items = await load();
  if (!items.length) return;
  for (const item of items) {
    const option = document.createElement("option");
    option.value = String(item.id);
    option.textContent = labelOf(item);
    select.append(option);
  }
  select.addEventListener("change", () => {
    choose(items.find((item) => String(item.id) === select.value) || null);
  });
  const wanted = new URLSearchParams(location.search).get("assistant");
  const chosen = wanted ? items.find((item) => String(item.id) === wanted) : null;
  if (chosen) {
    select.value = String(chosen.id);
    choose(chosen);
  }
  box.hidden = false;
  // Once the chat has begun it keeps what it started with: the picker is for a new chat only.
  new MutationObserver(() => {
    if (state.conversationId !== null) box.hidden = true;
  }).observe(app, { attributes: true, attributeFilter: ["data-conversation"] });
}
