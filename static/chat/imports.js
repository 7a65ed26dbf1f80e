// The settings page's import (templates/chat/settings.html, #imports): the file goes up, a job on the
// server imports it in the background, and this polls the job's progress and shows its report. On load it
// picks up the member's latest job, so that a reload during an import goes on showing it.
(function () {
  "use strict";

  const section = document.getElementById("imports");
  if (!section) return;
  const form = section.querySelector("form");
  const bar = section.querySelector("progress");
  const status = section.querySelector("[data-import-status]");
  const report = section.querySelector("[data-import-report]");
  const button = form.querySelector('button[type="submit"]');
  const POLL_MS = 1000;
  // The JS catalogue, looked up per call (it is a deferred script too).
  const _ = (text) => (window.gettext ? window.gettext(text) : text);
  const fill = (text, values) => values.reduce((out, value) => out.replace("%s", String(value)), text);

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("is-error", !!isError);
  }

  function showBar(value) {
    bar.hidden = value === null;
    if (value !== null) bar.value = value;
  }

  function showReport(job) {
    report.replaceChildren();
    const skipped = (job.report || []).filter((row) => row.outcome !== "imported");
    for (const row of skipped) {
      const item = document.createElement("li");
      item.textContent = fill(_("%s: %s"), [row.title || _("(untitled)"), row.why]);
      report.append(item);
    }
    report.hidden = skipped.length === 0;
  }

  function show(job) {
    const running = job.state === "queued" || job.state === "running";
    button.disabled = running;
    if (running) {
      showBar(job.progress);
      say(fill(_("Importing… %s imported, %s skipped so far."), [job.imported, job.skipped]));
      return;
    }
    showBar(null);
    const counts = fill(_("Imported %s, skipped %s."), [job.imported, job.skipped]);
    if (job.state === "failed") say(fill(_("The import failed: %s"), [job.error]) + " " + counts, true);
    else say(counts);
    showReport(job);
  }

  function poll(id) {
    fetch(form.dataset.statusUrl.replace(/\/0\.json$/, "/" + encodeURIComponent(id) + ".json"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((job) => {
        show(job);
        if (job.state === "queued" || job.state === "running") setTimeout(() => poll(id), POLL_MS);
      })
      .catch(() => {
        button.disabled = false;
        say(_("Lost track of the import: reload the page to see where it is."), true);
      });
  }

  function upload() {
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) showBar(Math.round((event.loaded * 100) / event.total));
    });
    request.addEventListener("load", () => {
      let data;
      try {
        data = JSON.parse(request.responseText);
      } catch {
        data = null;
      }
      if (request.status === 202 && data) {
        show(data);
        poll(data.id);
        return;
      }
      button.disabled = false;
      showBar(null);
      const message = data && data.error ? data.error.message : _("The upload failed.");
      say(message, true);
    });
    request.addEventListener("error", () => {
      button.disabled = false;
      showBar(null);
      say(_("The upload failed."), true);
    });
    button.disabled = true;
    report.hidden = true;
    say(_("Uploading…"));
    showBar(0);
    request.send(new FormData(form));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.elements.file.files.length) {
      say(_("Choose a file first."), true);
      return;
    }
    upload();
  });

  fetch(form.dataset.latestUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (!data || !data.job) return;
      show(data.job);
      if (data.job.state === "queued" || data.job.state === "running") poll(data.job.id);
    })
    .catch(() => {});
})();
