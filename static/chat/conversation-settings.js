// The chat page's conversation settings: its system prompt (panel) and its model (the picker).
// Saved on the server for an open conversation; a new chat sends them (its model settings too) with its
// first message (composer.js), and from then on they are the conversation's.
(function () {
  "use strict";

  const form = document.getElementById("conversation-settings");
  const picker = document.querySelector('#composer select[name="model"]');
  const status = document.getElementById("chat-settings-status");
  if (!form) return;
  // The JS catalogue, looked up per call (it is a deferred script too).
  const _ = (text) => (window.gettext ? window.gettext(text) : text);

  function conversation() {
    return window.TokenOffChat ? window.TokenOffChat.conversation : null;
  }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("is-error", !!isError);
  }

  /** POSTs only the fields given: the server leaves the others alone. */
  function save(fields) {
    const id = conversation();
    if (id === null) return Promise.resolve(null);
    const body = new FormData();
    body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    const url = form.dataset.url.replace(/\/0\//, "/" + encodeURIComponent(id) + "/");
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then((response) => response.json().then((data) => ({ ok: response.ok, data: data })));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (conversation() === null) {
      say(_("It goes with your first message."));
      return;
    }
    say(_("Saving…"));
    // The model goes too: the picker's own save may still be on its way (to another process, even), and
    // the settings are checked against the model they are for.
    const fields = { system_prompt: form.elements.system_prompt.value };
    if (picker) fields.model = picker.value;
    save(Object.assign(fields, modelSettings.values()))
      .then((result) => {
        if (result && result.ok) modelSettings.saved(result.data.parameters);
        if (result && result.ok) say(_("Saved: it applies from the next message."));
        else say(_("Not saved:") + " " + errorText(result), true);
      })
      .catch(() => say(_("Not saved: the server could not be reached."), true));
  });

  // The model settings: only what the chosen model takes, rebuilt when the picker changes.
  const modelSettings = (function () {
    const fieldset = document.getElementById("model-settings");
    const note = document.getElementById("model-settings-note");
    const catalogue = readCatalogue();
    const EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh"];
    const field = (name) => fieldset.querySelector('[data-parameter="' + name + '"]');
    const temperature = form.elements.temperature;
    const effort = form.elements.reasoning_effort;
    const maxTokens = form.elements.max_tokens;

    // What the person sets is kept apart from the controls (the fieldset's data), so that a model that
    // takes less, and a switch back, does not lose it.
    const remembered = { temperature: "temperature", reasoning_effort: "reasoningEffort", max_tokens: "maxTokens" };
    for (const control of [temperature, effort, maxTokens]) {
      for (const type of ["input", "change"]) {
        control.addEventListener(type, () => { fieldset.dataset[remembered[control.name]] = control.value; });
      }
    }

    function readCatalogue() {
      const node = document.getElementById("model-catalogue");
      try { return node ? JSON.parse(node.textContent).models || {} : {}; } catch { return {}; }
    }

    /** The model's effort nearest to the one chosen; on a tie the higher (as the server does). */
    function nearest(efforts, chosen) {
      if (!efforts.length || !EFFORTS.includes(chosen)) return "";
      if (efforts.includes(chosen)) return chosen;
      const wanted = EFFORTS.indexOf(chosen);
      const distance = (e) => Math.abs(EFFORTS.indexOf(e) - wanted) * 10 - EFFORTS.indexOf(e);
      return efforts.reduce((best, e) => (distance(e) < distance(best) ? e : best));
    }

    function build() {
      const model = catalogue[picker ? picker.value : ""] || {};
      const chosen = fieldset.dataset;
      const notes = [];
      const takesTemperature = !!model.takes_temperature;
      field("temperature").hidden = !takesTemperature;
      temperature.value = takesTemperature ? chosen.temperature : "";
      if (!takesTemperature && chosen.temperature) notes.push(_("This model takes no temperature: yours is not sent."));
      const efforts = model.reasoning_efforts || [];
      field("reasoning_effort").hidden = !efforts.length;
      const fallback = model.default_reasoning_effort
        ? format(_("Model default (%s)"), [model.default_reasoning_effort]) : _("Model default");
      effort.replaceChildren(new Option(fallback, ""), ...efforts.map((e) => new Option(e, e)));
      const sent = nearest(efforts, chosen.reasoningEffort);
      effort.value = sent;
      if (chosen.reasoningEffort && sent !== chosen.reasoningEffort) {
        notes.push(sent
          ? format(_("This model does not take the effort “%(chosen)s”: “%(sent)s” is sent."), { chosen: chosen.reasoningEffort, sent: sent })
          : _("This model takes no reasoning effort: yours is not sent."));
      }
      const limit = model.max_output_limit || null;
      maxTokens.max = limit ? String(limit) : "";
      const longest = chosen.maxTokens ? Number(chosen.maxTokens) : null;
      maxTokens.value = longest && limit ? String(Math.min(longest, limit)) : (chosen.maxTokens || "");
      if (longest && limit && longest > limit) {
        notes.push(format(_("This model writes at most %s tokens: that is sent."), [limit]));
      }
      note.textContent = notes.join(" ");
      note.hidden = !notes.length;
    }

    return {
      build: build,
      /** The fields the model takes, as the form posts them (empty: the model's default). */
      values() {
        if (fieldset.hidden) return {};
        const values = {};
        for (const control of [temperature, effort, maxTokens]) {
          if (!control.closest("[data-parameter]").hidden) values[control.name] = control.value;
        }
        return values;
      },
      saved(parameters) {
        const p = parameters || {};
        fieldset.dataset.temperature = p.temperature != null ? String(p.temperature) : "";
        fieldset.dataset.reasoningEffort = p.reasoning_effort || "";
        fieldset.dataset.maxTokens = p.max_tokens != null ? String(p.max_tokens) : "";
        build();
      },
    };
  })();

  function format(text, values) {
    if (window.interpolate) return window.interpolate(text, values, !Array.isArray(values));
    return text;
  }

  modelSettings.build();

  if (picker) {
    picker.addEventListener("change", () => {
      // The conversation remembers its model, so that it reopens with it.
      save({ model: picker.value }).catch(() => {});
      modelSettings.build();
    });
  }

  function errorText(result) {
    const errors = result && result.data && result.data.errors;
    if (!errors) return _("please try again.");
    return Object.values(errors).flat().map((e) => e.message).join(" ");
  }
})();
