// The files pinned to an assistant (its edit page) or a project (its page): the owner picks a document,
// it goes up like a message's (POST /api/attachments/), is pinned (POST <files url>), and is listed
// with a remove button. Sent with every chat started from the assistant or in the project.
(function () {
  "use strict";

  const section = document.querySelector("[data-pinned-files]");
  if (!section) return;
  const filesUrl = section.dataset.pinnedFiles;
  const uploadUrl = section.dataset.uploadUrl;
  const list = section.querySelector("ul");
  const input = section.querySelector('input[type="file"]');
  const error = section.querySelector("[data-pinned-error]");
  const csrf = section.querySelector('input[name="csrfmiddlewaretoken"]').value;
  const _ = (text) => (window.gettext ? window.gettext(text) : text);

  function say(text) {
    error.textContent = text || "";
    error.hidden = !text;
  }

  function show(files) {
    list.replaceChildren();
    for (const file of files) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = file.name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-secondary";
      remove.textContent = _("Remove");
      remove.setAttribute("aria-label", _("Remove") + " " + file.name);
      remove.addEventListener("click", () => removeFile(file.id));
      item.append(name, " ", remove);
      list.append(item);
    }
    if (!files.length) {
      const none = document.createElement("li");
      none.className = "field-help";
      none.textContent = _("No files yet.");
      list.append(none);
    }
  }

  // GET without a body; POST with a form, or none (an empty multipart body is a bad request).
  async function post(url, body, method) {
    const response = await fetch(url, {
      method: method || (body ? "POST" : "GET"),
      body: body || undefined,
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || _("The upload failed."));
    return data;
  }

  async function removeFile(id) {
    say("");
    try {
      show((await post(filesUrl + encodeURIComponent(id) + "/", null, "POST")).files);
    } catch (failure) {
      say(failure.message);
    }
  }

  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    say("");
    const upload = new FormData();
    upload.append("file", file);
    try {
      const uploaded = await post(uploadUrl, upload);
      const pin = new FormData();
      pin.append("attachment", uploaded.id);
      show((await post(filesUrl, pin)).files);
    } catch (failure) {
      say(failure.message);
    }
  });

  post(filesUrl).then((data) => show(data.files), (failure) => say(failure.message));
})();
