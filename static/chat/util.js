// Helpers shared by the chat page's modules (and review.js): translation, URLs, requests.

/** Translates with the JS catalogue (window.gettext), looked up per call so load order cannot bite. */
export const _ = (text) => (window.gettext ? window.gettext(text) : text);

/** `values` is a list for %s, an object for %(name)s (interpolate's third argument says which). */
export function format(text, values) {
  if (window.interpolate) return window.interpolate(text, values, !Array.isArray(values));
  if (Array.isArray(values)) return values.reduce((t, v) => t.replace("%s", v), text);
  return text.replace(/%\((\w+)\)s/g, (m, key) => values[key]);
}

/** Puts an id into a URL Django reversed with a 0 for it: "/c/0/thread.json" -> "/c/42/thread.json". */
export function urlFor(template, id) {
  return template.replace(/\/0\//, "/" + encodeURIComponent(id) + "/");
}

export function displayTitle(title) {
  return title && title.trim() ? title.trim() : _("New chat");
}

export function formatNumber(n) {
  return Number(n).toLocaleString();
}

/** Length as the server counts it: code points, not UTF-16 units. */
export function codePoints(text) {
  let n = 0;
  for (const _char of text) n++;
  return n;
}

export function randomId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * POSTs form fields with the page's CSRF token; resolves to the JSON answer, rejects with the
 * server's error. `keepalive` lets a request sent as the page closes still arrive.
 */
export function post(url, fields, { keepalive = false } = {}) {
  const csrfInput = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfInput ? csrfInput.value : "", Accept: "application/json" },
    body: new URLSearchParams(fields || {}),
    keepalive,
  }).then((response) => response.json().then((data) => {
    if (!response.ok) throw new Error(data.error || _("Something went wrong."));
    return data;
  }));
}

/** GETs JSON with the session; resolves to null when the answer is not a success. */
export function getJSON(url) {
  return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : null));
}
