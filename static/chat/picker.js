// The model picker: a button that opens a searchable menu of the models (the ARIA listbox pattern,
// with a search box as its combobox), grouped as the server ordered them (chat/conversations/picker.py:
// the team's default, the member's recent models, then by family), each with its description,
// capabilities and relative price. The real <select name="model"> stays in the page under the
// button: choosing here sets it and fires `change`; a change there (a tool, a test) shows here.
import { _, format, formatNumber } from "./util.js";

const root = document.getElementById("model-picker");
const select = root ? root.querySelector('select[name="model"]') : null;
const button = document.getElementById("model-picker-button");
const current = document.getElementById("model-picker-current");
const popup = document.getElementById("model-picker-popup");
const search = document.getElementById("model-picker-search");
const list = document.getElementById("model-picker-list");
const empty = popup ? popup.querySelector(".model-picker-empty") : null;
const dataElement = document.getElementById("model-catalogue");

/** The page's catalogue (views._page's picker_data): {currency, groups: [{key, label, models}], models: {name: facts}}. */
export const catalogue = dataElement ? JSON.parse(dataElement.textContent) : { groups: [], models: {} };

/** The catalogue's label for a model name; the name itself for one the page does not know. */
export function modelLabel(name) {
  const model = name ? catalogue.models[name] : null;
  return model ? model.label : name || "";
}

const PRICE_WORDS = { 1: () => _("Price: low"), 2: () => _("Price: medium"), 3: () => _("Price: high") };
// The room kept between the menu and the top of the window.
const EDGE_PX = 8;

let options = []; // [{element, name, text}] in list order
let active = null; // the option the arrows are on (aria-activedescendant)

function isOpen() {
  return button.getAttribute("aria-expanded") === "true";
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

function priceTitle(model) {
  if (model.input_price === null || model.output_price === null) return "";
  return format(_("Per million tokens: %(input)s in, %(output)s out (%(currency)s)"), {
    input: model.input_price, output: model.output_price, currency: catalogue.currency || "",
  });
}

/** One model's row: label, capabilities, price, and its description on a second line. */
function optionElement(model, id) {
  const option = document.createElement("div");
  option.id = id;
  option.className = "model-option";
  option.setAttribute("role", "option");
  option.setAttribute("aria-selected", "false");
  option.dataset.value = model.name;
  const head = document.createElement("div");
  head.className = "model-option-head";
  head.append(span("model-option-label", model.label));
  const badges = document.createElement("span");
  badges.className = "model-option-badges";
  if (model.reasoning) badges.append(span("model-badge badge-reasoning", _("Reasoning")));
  if (model.vision) badges.append(span("model-badge badge-vision", _("Vision")));
  if (model.long_context) {
    const badge = span("model-badge badge-context", _("Long context"));
    badge.title = format(_("%s tokens of context"), [formatNumber(model.context_window)]);
    badges.append(badge);
  }
  head.append(badges);
  if (model.price_tier) {
    const price = span("model-option-price", "");
    price.title = priceTitle(model);
    const glyphs = span("model-price-glyphs", "$".repeat(model.price_tier));
    glyphs.setAttribute("aria-hidden", "true");
    price.append(glyphs, span("visually-hidden", PRICE_WORDS[model.price_tier]()));
    head.append(price);
  }
  option.append(head);
  if (model.description) option.append(span("model-option-description", model.description));
  return option;
}

/** Builds the menu once from the catalogue, in the server's groups and order. */
function build() {
  list.replaceChildren();
  options = [];
  catalogue.groups.forEach((group, g) => {
    const models = group.models.map((name) => catalogue.models[name]).filter(Boolean);
    if (!models.length) return;
    const box = document.createElement("div");
    box.className = "model-group";
    box.setAttribute("role", "group");
    const heading = span("model-group-heading", group.label);
    heading.id = "model-picker-group-" + g;
    heading.setAttribute("role", "presentation");
    box.setAttribute("aria-labelledby", heading.id);
    box.append(heading);
    for (const model of models) {
      const element = optionElement(model, "model-picker-option-" + options.length);
      box.append(element);
      const text = [model.label, model.name, model.family, model.description].join(" ").toLowerCase();
      options.push({ element, name: model.name, text });
    }
    list.append(box);
  });
}

function visibleOptions() {
  return options.filter((o) => !o.element.hidden);
}

function setActive(option) {
  if (active) active.element.classList.remove("is-active");
  active = option || null;
  if (!active) {
    search.removeAttribute("aria-activedescendant");
    return;
  }
  active.element.classList.add("is-active");
  search.setAttribute("aria-activedescendant", active.element.id);
  active.element.scrollIntoView({ block: "nearest" });
}

/** Shows the options with every word typed (in label, name, family or description); the first one active. */
function filter(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  for (const option of options) option.element.hidden = !words.every((w) => option.text.includes(w));
  for (const group of list.querySelectorAll(".model-group")) {
    group.hidden = !group.querySelector('[role="option"]:not([hidden])');
  }
  const shown = visibleOptions();
  empty.hidden = shown.length > 0;
  const chosen = shown.find((o) => o.name === select.value);
  setActive(words.length ? shown[0] : chosen || shown[0]);
}

/** The button says the chosen model; the options mark it. */
function showChoice() {
  const model = catalogue.models[select.value];
  current.textContent = model ? model.label : (select.selectedOptions[0] || {}).textContent || "";
  button.title = model && model.description ? model.description : "";
  for (const option of options) option.element.setAttribute("aria-selected", String(option.name === select.value));
}

function open(query) {
  if (isOpen()) return;
  popup.hidden = false;
  button.setAttribute("aria-expanded", "true");
  // Upward from the composer, as tall as the room above it allows (CSSOM: CSP-clean).
  const anchor = root.closest(".composer-box") || root;
  const room = Math.max(160, anchor.getBoundingClientRect().top - EDGE_PX - 6);
  popup.style.setProperty("--picker-room", room + "px");
  search.value = query || "";
  filter(search.value);
  search.focus();
}

function close(returnFocus) {
  if (!isOpen()) return;
  popup.hidden = true;
  button.setAttribute("aria-expanded", "false");
  setActive(null);
  if (returnFocus) button.focus();
}

function choose(name) {
  close(true);
  if (select.value === name) return;
  select.value = name;
  // As a person's choice in the <select> would: the composer and conversation-settings.js listen.
  select.dispatchEvent(new Event("input", { bubbles: true }));
  select.dispatchEvent(new Event("change", { bubbles: true }));
}

function move(step) {
  const shown = visibleOptions();
  if (!shown.length) return;
  const at = shown.indexOf(active);
  const next = at === -1 ? 0 : Math.min(shown.length - 1, Math.max(0, at + step));
  setActive(shown[next]);
}

function onSearchKeydown(event) {
  if (event.isComposing) return;
  const shown = visibleOptions();
  switch (event.key) {
    case "ArrowDown": move(1); break;
    case "ArrowUp": move(-1); break;
    case "PageDown": move(5); break;
    case "PageUp": move(-5); break;
    case "Home": setActive(shown[0]); break;
    case "End": setActive(shown[shown.length - 1]); break;
    case "Enter":
      if (active) choose(active.name);
      break;
    case "Escape":
      event.stopPropagation(); // not the page's Escape (stop a reply, close the drawer)
      close(true);
      break;
    case "Tab":
      close(false);
      return;
    default:
      return;
  }
  event.preventDefault();
}

function onButtonKeydown(event) {
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    open("");
    if (event.key === "ArrowUp") setActive(visibleOptions().pop());
  } else if (event.key.length === 1 && event.key !== " " && !event.ctrlKey && !event.metaKey && !event.altKey) {
    // Typing on the button starts a search with that letter.
    event.preventDefault();
    open(event.key);
  }
}

/** Covers the <select> with the menu; without the catalogue's data (or JS) the plain select stays. */
export function init() {
  if (!root || !select || !button || !search || !select.querySelector("option[value]:not([value=''])")) return;
  build();
  if (!options.length) return;
  root.classList.add("is-enhanced");
  // The select stays in the layout (tools select_option it; Playwright wants it visible), out of
  // the tab order and the accessibility tree: the button speaks for it.
  select.tabIndex = -1;
  select.setAttribute("aria-hidden", "true");
  button.hidden = false;
  showChoice();

  button.addEventListener("click", () => (isOpen() ? close(true) : open("")));
  button.addEventListener("keydown", onButtonKeydown);
  search.addEventListener("input", () => filter(search.value));
  search.addEventListener("keydown", onSearchKeydown);
  // Nothing in the menu but its search box takes focus: the box keeps it, so a click on an option
  // (or a heading) does not close the menu before it counts.
  popup.addEventListener("mousedown", (event) => {
    if (event.target !== search) event.preventDefault();
  });
  list.addEventListener("click", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) choose(option.dataset.value);
  });
  list.addEventListener("mousemove", (event) => {
    const element = event.target.closest('[role="option"]');
    const option = element && options.find((o) => o.element === element);
    if (option && option !== active) setActive(option);
  });
  root.addEventListener("focusout", (event) => {
    if (!root.contains(event.relatedTarget)) close(false);
  });
  document.addEventListener("pointerdown", (event) => {
    if (isOpen() && !root.contains(event.target)) close(false);
  });
  select.addEventListener("change", showChoice);
}
