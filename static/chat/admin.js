// Django's admin widgets, named for screen readers (axe-core finds these on Django's own markup).
// The widgets build themselves when they like (SelectFilter2 at "load", select2 at jQuery's "ready",
// which may come later; a new inline row at any time): whenever the page's elements change, the new
// ones are mended.
(function () {
  "use strict";

  function mend() {
    // The two-list selector's magnifier: an aria-label on a bare <span>, which needs a role to carry one.
    document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    // An autocomplete field (select2): its combobox and its text are named by the field's own label.
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
      var widget = select.nextElementSibling;
      if (!label || !widget || !widget.classList.contains("select2")) return;
      if (!label.id) label.id = select.id + "-label";
      var box = widget.querySelector(".select2-selection");
      var shown = widget.querySelector(".select2-selection__rendered");
      if (box) box.setAttribute("aria-labelledby", label.id + (shown && shown.id ? " " + shown.id : ""));
      if (shown) shown.setAttribute("aria-labelledby", label.id);
    });
  }

  // A change list's editable cells (list_editable): each field is named by its column and its row.
  function nameCells() {
    var table = document.getElementById("result_list");
    if (!table || !table.tHead) return;
    var headings = table.tHead.rows[0].cells;
    table.querySelectorAll("tbody td input:not([type=hidden]), tbody td select, tbody td textarea").forEach(
      function (field) {
        if (field.hasAttribute("aria-label") || (field.labels && field.labels.length)) return;
        var cell = field.closest("td");
        var row = cell.parentElement.querySelector("th");
        var column = headings[cell.cellIndex] ? headings[cell.cellIndex].textContent.trim() : "";
        if (column) field.setAttribute("aria-label", column + (row ? ": " + row.textContent.trim() : ""));
      }
    );
  }

  nameCells();
  mend();
  // A mutation observer's callback runs as soon as the script that changed the page is done.
  new MutationObserver(mend).observe(document.body, { childList: true, subtree: true });
})();
