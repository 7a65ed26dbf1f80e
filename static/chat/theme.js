/* Light, dark or the system's theme. Loaded in <head> without defer, so <html data-theme> is set
   before the first paint (the CSP forbids an inline script). The CSS does the rest: no data-theme
   follows prefers-color-scheme live, data-theme="light" or "dark" forces one (chat.css). */
(function () {
  "use strict";

  var KEY = "tokenoff-theme";
  var CHOICES = ["system", "light", "dark"];
  // Django's admin keeps its own switch under this key, with "auto" for the system's theme.
  var ADMIN_KEY = "theme";
  var HL_MEDIA = { light: "(prefers-color-scheme: light)", dark: "(prefers-color-scheme: dark)" };
  var root = document.documentElement;

  function stored() {
    var value = null;
    try {
      value = window.localStorage.getItem(KEY);
      // A choice made with Django's own admin switch before the admin used ours: keep it.
      if (value === null) {
        var admin = window.localStorage.getItem(ADMIN_KEY);
        value = admin === "auto" ? "system" : admin;
      }
    } catch {
      // Storage refused (private mode, blocked cookies): follow the system.
    }
    return CHOICES.indexOf(value) >= 0 ? value : "system";
  }

  function save(choice) {
    try {
      window.localStorage.setItem(KEY, choice);
      window.localStorage.setItem(ADMIN_KEY, choice === "system" ? "auto" : choice);
    } catch {
      // Not kept across pages, but the page still switches.
    }
  }

  // highlight.js's two stylesheets carry a media query; a forced theme switches one on, the other off.
  function applyHighlight(choice) {
    var links = document.querySelectorAll("link[data-hl-theme]");
    for (var i = 0; i < links.length; i++) {
      var which = links[i].getAttribute("data-hl-theme");
      if (!HL_MEDIA[which]) continue;
      links[i].media = choice === "system" ? HL_MEDIA[which] : which === choice ? "all" : "not all";
    }
  }

  function apply(choice) {
    if (choice === "system") {
      root.removeAttribute("data-theme");
    } else {
      root.setAttribute("data-theme", choice);
    }
    var meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) meta.setAttribute("content", choice === "system" ? "light dark" : choice);
    applyHighlight(choice);
  }

  // The switch is in the top bar and, on the chat page, again at the foot of the sidebar (a phone's
  // drawer): every copy shows the choice.
  function selects() {
    return document.querySelectorAll("select[data-theme-select]");
  }

  function show(choice) {
    var all = selects();
    for (var i = 0; i < all.length; i++) all[i].value = choice;
  }

  function wire() {
    applyHighlight(stored()); // the <link>s come after this script in <head>
    var all = selects();
    for (var i = 0; i < all.length; i++) {
      all[i].value = stored();
      all[i].hidden = false; // without this script the switch could not work, so it stays hidden
      all[i].addEventListener("change", function (event) {
        var value = event.target.value;
        var choice = CHOICES.indexOf(value) >= 0 ? value : "system";
        save(choice);
        apply(choice);
        show(choice);
      });
    }
  }

  apply(stored());

  // "interactive" comes before the deferred scripts run, so code is never highlighted in the other theme.
  if (document.readyState === "loading") {
    document.addEventListener("readystatechange", wire, { once: true });
  } else {
    wire();
  }

  // A choice made in another tab applies here too.
  window.addEventListener("storage", function (event) {
    if (event.key !== KEY) return;
    var choice = stored();
    apply(choice);
    show(choice);
  });
})();
