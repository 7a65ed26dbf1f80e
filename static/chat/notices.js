/* The notices that fold away: the demo banner and the review notice ([data-notice], notice_controls.html).
   Loaded in <head> without defer, like theme.js: a notice hidden earlier in this session is hidden
   before the first paint (<html data-notices-hidden>, chat.css). On a phone a notice is one line,
   with "More" when its text does not fit. */
(function () {
  "use strict";

  var KEY = "tokenoff-hidden-notices";
  var root = document.documentElement;

  function hiddenNotices() {
    try {
      return (window.sessionStorage.getItem(KEY) || "").split(" ").filter(Boolean);
    } catch {
      return []; // storage refused: the notice comes back with each page
    }
  }

  function mark(names) {
    if (names.length) root.setAttribute("data-notices-hidden", names.join(" "));
    else root.removeAttribute("data-notices-hidden");
  }

  function hide(name) {
    var names = hiddenNotices();
    if (names.indexOf(name) < 0) names.push(name);
    try {
      window.sessionStorage.setItem(KEY, names.join(" "));
    } catch {
      // Hidden on this page only.
    }
    mark(names);
  }

  function wireOne(notice) {
    var name = notice.getAttribute("data-notice");
    var text = notice.querySelector(".notice-text");
    var more = notice.querySelector('[data-action="expand-notice"]');
    var close = notice.querySelector('[data-action="dismiss-notice"]');
    if (close) {
      close.hidden = false;
      close.addEventListener("click", function () {
        hide(name);
        var composer = document.getElementById("composer-input");
        if (composer) composer.focus();
      });
    }
    if (!more || !text) return;
    var fit = function () {
      // "More" only when the one line cuts the text (on a phone; the CSS hides it on a wide screen).
      more.hidden = !notice.classList.contains("is-expanded") && text.scrollWidth <= text.clientWidth;
    };
    more.addEventListener("click", function () {
      var expanded = !notice.classList.contains("is-expanded");
      notice.classList.toggle("is-expanded", expanded);
      more.setAttribute("aria-expanded", String(expanded));
      more.textContent = expanded ? more.getAttribute("data-less") : more.getAttribute("data-more");
    });
    fit();
    if (window.ResizeObserver) new window.ResizeObserver(fit).observe(text);
  }

  function wire() {
    var notices = document.querySelectorAll("[data-notice]");
    for (var i = 0; i < notices.length; i++) wireOne(notices[i]);
  }

  mark(hiddenNotices());
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire, { once: true });
  } else {
    wire();
  }
})();
