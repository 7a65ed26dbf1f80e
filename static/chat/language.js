// The language switch in the top bar and on the log-in page: choosing a language submits the form,
// so its button is only needed (and shown) without JavaScript.
(function () {
  "use strict";
  document.querySelectorAll("form[data-language-switch]").forEach(function (form) {
    var button = form.querySelector("button");
    if (button) button.classList.add("visually-hidden");
    var select = form.querySelector("select[name=language]");
    if (select) {
      select.addEventListener("change", function () {
        form.requestSubmit ? form.requestSubmit() : form.submit();
      });
    }
  });
})();
