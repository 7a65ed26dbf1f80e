// The chat page's conversation settings: its system prompt (panel) and its model (the picker).
// Saved on the server for an open conversation; a new chat sends them with its first message (composer.js).
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
    save({ system_prompt: form.elements.system_prompt.value })
      .then((result) => {
        if (result && result.ok) say(_("Saved: it applies from the next message."));
        else say(_("Not saved:") + " " + errorText(result), true);
      })
      .catch(() => say(_("Not saved: the server could not be reached."), true));
  });

  if (picker) {
    picker.addEventListener("change", () => {
      // The conversation remembers its model, so that it reopens with it.
      save({ model: picker.value }).catch(() => {});
    });
  }

  function errorText(result) {
    const errors = result && result.data && result.data.errors;
    if (!errors) return _("please try again.");
    return Object.values(errors).flat().map((e) => e.message).join(" ");
  }
})();
