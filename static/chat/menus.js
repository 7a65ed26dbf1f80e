// Two buttons that open a panel, on every page that has them: the top bar's account menu (a drawer
// below 800 px, base.html) and the chat header's ⋯ (the exports and the system prompt, chat.html).
// The button says whether its panel is open (aria-expanded); Escape, a click outside or focus moving
// away closes it, and Escape gives the focus back to the button. A classic deferred script.
(function () {
  "use strict";

  const NARROW = window.matchMedia("(max-width: 800px)");
  const FOCUSABLE = "a[href], button:not([disabled]), select, textarea, input, summary";

  function firstFocusable(panel) {
    return Array.from(panel.querySelectorAll(FOCUSABLE)).find((el) => el.getClientRects().length > 0);
  }

  /** Wires one button to its panel; `host` carries `openClass` while it is open. */
  function popup(button, panel, host, openClass) {
    const isOpen = () => host.classList.contains(openClass);

    function open() {
      host.classList.add(openClass);
      button.setAttribute("aria-expanded", "true");
      const first = firstFocusable(panel);
      if (first) first.focus();
    }

    function close(returnFocus) {
      if (!isOpen()) return;
      host.classList.remove(openClass);
      button.setAttribute("aria-expanded", "false");
      if (returnFocus) button.focus();
    }

    button.addEventListener("click", () => (isOpen() ? close(true) : open()));

    // Escape: an open <details> in the panel (the system prompt) closes first, then the panel.
    // Stopped here, so that the chat page's own Escape (stop the reply) does not fire as well.
    function onKeydown(event) {
      if (event.key !== "Escape" || event.isComposing) return;
      const details = event.target.closest && event.target.closest("details[open]");
      if (details && panel.contains(details)) {
        event.stopPropagation();
        details.open = false;
        details.querySelector("summary").focus();
        return;
      }
      if (!isOpen()) return;
      event.stopPropagation();
      close(true);
    }
    panel.addEventListener("keydown", onKeydown);
    button.addEventListener("keydown", onKeydown);

    document.addEventListener("pointerdown", (event) => {
      if (isOpen() && !panel.contains(event.target) && !button.contains(event.target)) close(false);
    });
    panel.addEventListener("focusout", (event) => {
      const next = event.relatedTarget;
      if (next && !panel.contains(next) && next !== button) close(false);
    });
    // A download from the panel leaves the page where it is: the panel has done its job.
    panel.addEventListener("click", (event) => {
      if (event.target.closest("a[download]")) close(true);
    });
    NARROW.addEventListener("change", () => close(false));
  }

  const topbar = document.querySelector(".topbar");
  const accountButton = document.querySelector('[data-action="toggle-account-menu"]');
  const accountMenu = document.getElementById("account-menu");
  if (topbar && accountButton && accountMenu) popup(accountButton, accountMenu, topbar, "account-open");

  const toolsButton = document.getElementById("chat-tools-toggle");
  const tools = document.getElementById("chat-tools");
  if (toolsButton && tools) {
    popup(toolsButton, tools, tools, "is-open");
    // A wide screen shows the tools in the header: a group there, a dialog when the ⋯ opens it.
    const role = () => tools.setAttribute("role", NARROW.matches ? "dialog" : "group");
    role();
    NARROW.addEventListener("change", role);
  }
})();
