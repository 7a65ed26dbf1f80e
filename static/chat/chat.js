// The chat page: transcript, composer and the WebSocket client (protocol in docs/protocol.md).
(function () {
  "use strict";

  const Render = window.TokenOffRender;
  const _ = window.gettext || ((text) => text);
  // `values` is a list for %s, an object for %(name)s (interpolate's third argument says which).
  const format = (text, values) => {
    if (window.interpolate) return window.interpolate(text, values, !Array.isArray(values));
    if (Array.isArray(values)) return values.reduce((t, v) => t.replace("%s", v), text);
    return text.replace(/%\((\w+)\)s/g, (m, key) => values[key]);
  };
  const stateEl = document.getElementById("chat-state");
  const app = document.getElementById("chat-app");
  if (!stateEl || !app || !Render) return;

  const initial = JSON.parse(stateEl.textContent);
  const WS_PATH = initial.ws_path || "/ws/chat/";
  const MAX_CONTENT = Number(initial.max_content) || 32000;
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 10000;
  const NEAR_BOTTOM_PX = 48;
  const SIGNED_OUT = 4401; // the server's close code for a user who may no longer chat

  const FINISH_NOTICES = {
    stopped: _("Stopped"),
    error: _("Failed"),
    interrupted: _("Interrupted"),
    length: _("Cut off at the length limit"),
    content_filter: _("Stopped by the content filter"),
  };

  // ---- elements ----------------------------------------------------------------------------

  const $ = (selector) => app.querySelector(selector);
  const transcript = $("#transcript");
  const messageList = $("#messages");
  const emptyState = $("#empty-state");
  const composer = $("#composer");
  const input = composer.querySelector('textarea[name="content"]');
  const modelSelect = composer.querySelector('select[name="model"]');
  const sendButton = composer.querySelector('[data-action="send"]');
  const stopButton = composer.querySelector('[data-action="stop"]');
  const charCount = $("#char-count");
  const connectionStatus = $("#connection-status");
  const errorBanner = $("#error-banner");
  const errorText = $("#error-text");
  const liveRegion = $("#live-region");
  const sidebar = $("#sidebar");
  const chatTitle = $("#chat-title");
  const exportLinks = $("#export-links");
  const sidebarToggle = document.querySelector('[data-action="toggle-sidebar"]');
  const systemPrompt = document.getElementById("system-prompt");
  const urls = {
    conversation: app.dataset.conversationUrl || "/c/0/",
    exportJson: app.dataset.exportJsonUrl || "/c/0/export.json",
    exportMd: app.dataset.exportMdUrl || "/c/0/export.md",
    thread: app.dataset.threadUrl || "/c/0/thread.json",
    branch: app.dataset.branchUrl || "/c/0/branch/",
    feedback: app.dataset.feedbackUrl || "/m/0/feedback/",
    home: app.dataset.homeUrl || "/",
  };
  const csrfInput = document.querySelector('input[name="csrfmiddlewaretoken"]');
  const Sidebar = window.TokenOffSidebar;

  // ---- state -------------------------------------------------------------------------------

  let conversationId = initial.conversation;
  let title = initial.title || "";
  /** message id (string) -> {id, role, body, wrapper, meta, text, seq, status, finishReason, usage, model, servedModel} */
  const messages = new Map();
  let streamingId = null; // the assistant message of the open conversation being written
  let pending = null; // {id, content}: a send not yet answered by `started` or `error`
  let socket = null;
  let connectedOnce = false;
  let backoff = BACKOFF_MIN;
  let reconnectTimer = null;
  let stickToBottom = true;
  const dirty = new Set();
  let frameRequested = false;

  // ---- helpers -----------------------------------------------------------------------------

  function urlFor(template, id) {
    return template.replace(/\/0\//, "/" + encodeURIComponent(id) + "/");
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function codePoints(text) {
    let n = 0;
    for (const _ of text) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  function formatNumber(n) {
    return Number(n).toLocaleString();
  }

  function displayTitle(t) {
    return t && t.trim() ? t.trim() : _("New chat");
  }

  function setDocumentTitle() {
    document.title = (conversationId === null && !title ? _("New chat") : displayTitle(title)) + " · TokenOff Chat";
  }

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfInput ? csrfInput.value : "", Accept: "application/json" },
      body: new URLSearchParams(fields || {}),
    }).then((response) => response.json().then((data) => {
      if (!response.ok) throw new Error(data.error || _("Something went wrong."));
      return data;
    }));
  }

  function announce(text) {
    liveRegion.textContent = "";
    // A fresh text node after a tick, so the same words are announced again.
    setTimeout(() => { liveRegion.textContent = text; }, 50);
  }

  function showError(text) {
    errorText.textContent = text || _("Something went wrong.");
    errorBanner.hidden = false;
  }

  function hideError() {
    errorBanner.hidden = true;
    errorText.textContent = "";
  }

  // ---- scrolling ---------------------------------------------------------------------------

  function isNearBottom() {
    return transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  transcript.addEventListener("scroll", () => { stickToBottom = isNearBottom(); }, { passive: true });

  // ---- messages ----------------------------------------------------------------------------

  function updateEmptyState() {
    if (emptyState) emptyState.hidden = messages.size > 0;
  }

  /** Builds the DOM of one message; the element with data-role/data-message holds only its text. */
  function createMessageElement(role, id) {
    const wrapper = document.createElement("article");
    wrapper.className = "message message-" + role;
    wrapper.setAttribute("data-wrapper-for", String(id));
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = role === "user" ? _("You said:") : _("Assistant replied:");
    const body = document.createElement("div");
    body.className = "message-body" + (role === "assistant" ? " markdown" : "");
    body.setAttribute("data-role", role);
    body.setAttribute("data-message", String(id));
    wrapper.append(who, body);
    let meta = null;
    if (role === "assistant") {
      meta = document.createElement("div");
      meta.className = "message-meta";
      wrapper.append(meta);
    }
    return { wrapper, body, meta };
  }

  function registerMessage(data, elements) {
    const m = {
      id: String(data.id),
      role: data.role,
      body: elements.body,
      wrapper: elements.wrapper,
      meta: elements.meta,
      text: data.content || "",
      seq: 0,
      status: data.status || "done",
      finishReason: data.finish_reason || "",
      usage: data.usage || null,
      model: data.model || "",
      servedModel: data.served_model || "",
      versions: (data.versions || []).map(String),
      feedback: data.feedback || null,
      created: data.created || null,
      actions: elements.wrapper.querySelector(".message-actions") || addActions(elements.wrapper),
      resyncing: false,
    };
    messages.set(m.id, m);
    return m;
  }

  function appendMessage(data) {
    const existing = messages.get(String(data.id));
    if (existing) return existing;
    const elements = createMessageElement(data.role, data.id);
    messageList.append(elements.wrapper);
    const m = registerMessage(data, elements);
    if (m.role === "user") {
      m.body.textContent = m.text;
    } else {
      renderNow(m);
    }
    updateEmptyState();
    return m;
  }

  function addActions(wrapper) {
    const actions = document.createElement("div");
    actions.className = "message-actions";
    wrapper.append(actions);
    return actions;
  }

  /** Adopts the server-rendered messages, then renders assistant ones as Markdown. */
  function adoptServerMessages() {
    const byId = new Map((initial.messages || []).map((d) => [String(d.id), d]));
    for (const body of messageList.querySelectorAll("[data-role][data-message]")) {
      const id = body.getAttribute("data-message");
      const role = body.getAttribute("data-role");
      const data = byId.get(id) || { id, role, content: body.textContent, status: "done" };
      const wrapper = body.closest(".message");
      const meta = wrapper ? wrapper.querySelector(".message-meta") : null;
      const m = registerMessage(data, { wrapper, body, meta });
      if (role === "assistant") {
        body.classList.remove("is-raw");
        renderNow(m);
      } else {
        renderActions(m);
      }
    }
    updateEmptyState();
  }

  function renderMeta(m) {
    if (!m.meta) return;
    m.meta.replaceChildren();
    m.wrapper.classList.toggle("is-streaming", m.status === "streaming");
    if (m.status === "streaming") {
      const writing = document.createElement("span");
      writing.className = "meta-writing";
      writing.textContent = _("Writing…");
      m.meta.append(writing);
      return;
    }
    const parts = [];
    const model = m.servedModel || m.model;
    if (model) parts.push(model);
    const u = m.usage;
    if (u && typeof u === "object") {
      if (u.total_tokens != null) {
        parts.push(format(_("%s tokens"), [formatNumber(u.total_tokens)]));
      } else if (u.prompt_tokens != null || u.completion_tokens != null) {
        parts.push(format(_("%(in)s in · %(out)s out"), { in: formatNumber(u.prompt_tokens || 0), out: formatNumber(u.completion_tokens || 0) }));
      }
    }
    for (const part of parts) {
      const span = document.createElement("span");
      span.className = "meta-item";
      span.textContent = part;
      m.meta.append(span);
    }
    const when = m.created ? new Date(m.created) : null;
    if (when && !isNaN(when)) {
      // The browser's own time zone and the page's language.
      const time = document.createElement("time");
      time.className = "meta-item";
      time.dateTime = when.toISOString();
      time.textContent = dateFormat.format(when);
      m.meta.append(time);
    }
    const reason = m.finishReason;
    if (reason && reason !== "stop") {
      const notice = document.createElement("span");
      notice.className = "meta-notice notice-" + reason.replace(/[^a-z_]/gi, "");
      notice.setAttribute("data-finish", reason);
      notice.textContent = FINISH_NOTICES[reason] || format(_("Ended: %s"), [reason]);
      m.meta.append(notice);
    }
  }

  const dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });

  function renderNow(m) {
    dirty.delete(m.id);
    if (m.role === "user") {
      m.body.textContent = m.text;
    } else {
      Render.renderMarkdown(m.body, m.text, { final: m.status !== "streaming" });
      m.body.classList.toggle("is-empty", m.text === "");
      renderMeta(m);
    }
    renderActions(m);
    if (stickToBottom) scrollToBottom();
  }

  // ---- message actions: versions, copy, edit, regenerate, feedback ---------------------------

  function actionButton(action, label, text) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "message-action";
    button.setAttribute("data-message-action", action);
    button.setAttribute("aria-label", label);
    button.title = label;
    button.textContent = text === undefined ? label : text;
    return button;
  }

  function isLast(m) {
    const all = Array.from(messages.values());
    return all.length > 0 && all[all.length - 1] === m;
  }

  function renderActions(m) {
    if (!m.actions) return;
    m.actions.replaceChildren();
    if (m.status === "streaming") return;
    const busy = streamingId !== null || pending !== null;
    if (m.versions.length > 1) {
      const at = m.versions.indexOf(m.id);
      const nav = document.createElement("span");
      nav.className = "message-versions";
      const previous = actionButton("version-previous", _("Previous version"), "‹");
      previous.disabled = busy || at <= 0;
      previous.dataset.target = m.versions[at - 1] || "";
      const next = actionButton("version-next", _("Next version"), "›");
      next.disabled = busy || at >= m.versions.length - 1;
      next.dataset.target = m.versions[at + 1] || "";
      const count = document.createElement("span");
      count.className = "message-version-count";
      count.textContent = format(_("%(at)s / %(of)s"), { at: at + 1, of: m.versions.length });
      nav.append(previous, count, next);
      m.actions.append(nav);
    }
    m.actions.append(actionButton("copy", _("Copy message"), _("Copy")));
    if (m.role === "user") {
      const edit = actionButton("edit", _("Edit message"), _("Edit"));
      edit.disabled = busy || conversationId === null;
      m.actions.append(edit);
      return;
    }
    if (isLast(m)) {
      const again = actionButton("regenerate", _("Regenerate reply"), _("Regenerate"));
      again.disabled = busy;
      m.actions.append(again);
    }
    const rating = m.feedback ? m.feedback.rating : 0;
    const up = actionButton("thumbs-up", _("Good reply"), "");
    up.append(thumbIcon());
    up.setAttribute("aria-pressed", String(rating === 1));
    const down = actionButton("thumbs-down", _("Bad reply"), "");
    down.append(thumbIcon());
    down.setAttribute("aria-pressed", String(rating === -1));
    m.actions.append(up, down);
  }

  // Drawn, not an emoji: servers' browsers (and some desktops) have no emoji font.
  const THUMB_PATH = "M7 10v11H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3zm2 11h8.3a2 2 0 0 0 2-1.7l1.3-8A2 2 0 0 0 18.6 9H14V5a2 2 0 0 0-2-2l-3 7v11z";

  function thumbIcon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "thumb-icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", THUMB_PATH);
    svg.append(path);
    return svg;
  }

  function renderAllActions() {
    for (const m of messages.values()) renderActions(m);
  }

  function copyText(m, button) {
    const done = () => {
      button.textContent = _("Copied");
      setTimeout(() => { button.textContent = _("Copy"); }, 1500);
      announce(_("Copied to the clipboard"));
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(m.text).then(done, () => fallbackCopy(m.text, done));
    } else {
      fallbackCopy(m.text, done);
    }
  }

  function fallbackCopy(text, done) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    try { document.execCommand("copy"); done(); } catch (err) { showError(_("Copying is not allowed here.")); }
    area.remove();
  }

  function giveFeedback(m, rating, comment) {
    const current = m.feedback ? m.feedback.rating : 0;
    const value = rating === current && comment === undefined ? 0 : rating; // pressing it again takes it back
    post(urlFor(urls.feedback, m.id), { rating: String(value), comment: comment || "" })
      .then((data) => {
        m.feedback = data.rating ? { rating: data.rating, comment: data.comment } : null;
        renderActions(m);
        if (data.rating === -1 && comment === undefined) askComment(m);
        else if (data.rating) announce(_("Thanks for the feedback"));
      })
      .catch((error) => showError(error.message));
  }

  function askComment(m) {
    const form = document.createElement("form");
    form.className = "feedback-form";
    const label = document.createElement("label");
    const fieldId = "feedback-" + m.id;
    label.htmlFor = fieldId;
    label.textContent = _("What was wrong? (optional)");
    const field = document.createElement("textarea");
    field.id = fieldId;
    field.rows = 2;
    field.maxLength = 2000;
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "button button-primary";
    send.textContent = _("Send feedback");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = _("Skip");
    const bar = document.createElement("div");
    bar.className = "feedback-bar";
    bar.append(cancel, send);
    form.append(label, field, bar);
    m.wrapper.append(form);
    field.focus();
    cancel.addEventListener("click", () => form.remove());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      form.remove();
      giveFeedback(m, -1, field.value);
    });
  }

  function startEdit(m) {
    if (m.wrapper.querySelector(".edit-form")) return;
    const form = document.createElement("form");
    form.className = "edit-form";
    const field = document.createElement("textarea");
    field.value = m.text;
    field.rows = Math.min(10, m.text.split("\n").length + 1);
    field.setAttribute("aria-label", _("Edit your message"));
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "button button-primary";
    send.textContent = _("Save and send");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = _("Cancel");
    const bar = document.createElement("div");
    bar.className = "feedback-bar";
    bar.append(cancel, send);
    form.append(field, bar);
    m.body.hidden = true;
    m.wrapper.append(form);
    field.focus();
    const close = () => { form.remove(); m.body.hidden = false; };
    cancel.addEventListener("click", close);
    field.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(); }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const content = field.value;
      if (!content.trim() || streamingId !== null || pending !== null) return;
      close();
      startReply({ type: "send", conversation: conversationId, content: content, edit: Number(m.id) }, { content, replaces: m.id });
    });
  }

  function regenerate(m) {
    const frame = { type: "regenerate", conversation: conversationId, message: Number(m.id) };
    startReply(frame, { content: "", replaces: m.id });
  }

  /** Drops the message and everything after it: a fork replaces them with a new branch. */
  function removeFrom(id) {
    let found = false;
    for (const [key, m] of Array.from(messages.entries())) {
      if (key === String(id)) found = true;
      if (found) { m.wrapper.remove(); messages.delete(key); }
    }
    updateEmptyState();
  }

  /** Shows the branch the server sent: every message rendered again, with its versions. */
  function showThread(list) {
    for (const m of messages.values()) m.wrapper.remove();
    messages.clear();
    for (const data of list) appendMessage(data);
    const last = list[list.length - 1];
    setStreaming(last && last.role === "assistant" && last.status === "streaming" ? last.id : null);
    renderAllActions();
  }

  function loadThread() {
    if (conversationId === null) return Promise.resolve();
    const id = conversationId;
    return fetch(urlFor(urls.thread, id), { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => { if (data && id === conversationId) showThread(data.messages); })
      .catch(() => {});
  }

  function showVersion(target) {
    if (!target || conversationId === null) return;
    post(urlFor(urls.branch, conversationId), { message: target })
      .then((data) => {
        showThread(data.messages);
        announce(_("Showing another version"));
      })
      .catch((error) => showError(error.message));
  }

  messageList.addEventListener("click", (event) => {
    const button = event.target.closest("[data-message-action]");
    // The page's buttons sit beside the message body: nothing inside a reply's markup acts.
    if (!button || button.disabled || button.closest(".message-body")) return;
    const wrapper = button.closest("[data-wrapper-for]");
    const m = wrapper ? messages.get(wrapper.getAttribute("data-wrapper-for")) : null;
    if (!m) return;
    switch (button.getAttribute("data-message-action")) {
      case "copy": return copyText(m, button);
      case "edit": return startEdit(m);
      case "regenerate": return regenerate(m);
      case "thumbs-up": return giveFeedback(m, 1);
      case "thumbs-down": return giveFeedback(m, -1);
      case "version-previous":
      case "version-next": return showVersion(button.dataset.target);
      default: return undefined;
    }
  });

  function scheduleRender(m) {
    dirty.add(m.id);
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      for (const id of Array.from(dirty)) {
        const msg = messages.get(id);
        if (msg) renderNow(msg);
      }
      dirty.clear();
    });
  }

  // ---- streaming state and controls -------------------------------------------------------

  function setStreaming(id) {
    streamingId = id === null || id === undefined ? null : String(id);
    updateControls();
  }

  function updateControls() {
    const streaming = streamingId !== null;
    app.classList.toggle("is-streaming", streaming);
    stopButton.hidden = !streaming;
    stopButton.disabled = !streaming;
    sendButton.hidden = streaming;
    const text = input.value;
    const length = codePoints(text);
    const tooLong = length > MAX_CONTENT;
    sendButton.disabled = streaming || pending !== null || text.trim() === "" || tooLong;
    if (charCount) {
      const show = length > MAX_CONTENT * 0.9;
      charCount.hidden = !show;
      charCount.textContent = show ? formatNumber(length) + " / " + formatNumber(MAX_CONTENT) : "";
      charCount.classList.toggle("is-over", tooLong);
    }
    composer.classList.toggle("is-pending", pending !== null);
    const busy = streaming || pending !== null;
    if (busy !== lastBusy) {
      lastBusy = busy;
      renderAllActions();
    }
  }
  let lastBusy = null;

  // ---- sidebar -----------------------------------------------------------------------------

  function upsertSidebar(id, newTitle, moveToTop) {
    if (!Sidebar) return;
    Sidebar.upsert(id, newTitle, moveToTop);
    if (String(id) === String(conversationId)) Sidebar.markCurrent(id);
  }

  function setOpenTitle(newTitle) {
    title = newTitle || "";
    if (chatTitle) chatTitle.textContent = displayTitle(title);
    setDocumentTitle();
  }

  function adoptConversation(id, newTitle) {
    conversationId = id;
    const path = urlFor(urls.conversation, id);
    if (location.pathname !== path) history.pushState({ conversation: id }, "", path);
    upsertSidebar(id, newTitle, true);
    setOpenTitle(newTitle);
    if (exportLinks) {
      exportLinks.querySelector('[data-export="json"]').href = urlFor(urls.exportJson, id);
      exportLinks.querySelector('[data-export="md"]').href = urlFor(urls.exportMd, id);
      exportLinks.hidden = false;
    }
    app.setAttribute("data-conversation", String(id));
  }

  function closeSidebar() {
    app.classList.remove("sidebar-open");
    if (sidebarToggle) sidebarToggle.setAttribute("aria-expanded", "false");
  }

  function toggleSidebar() {
    const open = !app.classList.contains("sidebar-open");
    app.classList.toggle("sidebar-open", open);
    if (sidebarToggle) sidebarToggle.setAttribute("aria-expanded", String(open));
    if (open) {
      const current = sidebar.querySelector('a[aria-current="page"]') || sidebar.querySelector("a");
      if (current) current.focus();
    }
  }

  // ---- the socket --------------------------------------------------------------------------

  function sendFrame(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function setConnectionStatus(text) {
    if (!connectionStatus) return;
    connectionStatus.textContent = text;
    connectionStatus.hidden = !text;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + WS_PATH;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener("open", () => {
      if (socket !== ws) return;
      const reconnected = connectedOnce;
      connectedOnce = true;
      backoff = BACKOFF_MIN;
      setConnectionStatus("");
      reconcileOnSnapshot = reconnected;
      if (conversationId !== null) sendFrame({ type: "attach", conversation: conversationId });
      if (pending && pending.frame) {
        sendFrame(pending.frame);
        pending.frame = null;
      }
    });
    ws.addEventListener("message", (event) => {
      if (socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (frame && typeof frame === "object") handleFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      if (event.code === SIGNED_OUT) {
        // Deactivated or signed out: reconnecting cannot help, logging in again might.
        pending = null;
        setStreaming(null);
        setConnectionStatus(_("Signed out"));
        showError(_("You have been signed out of the chat. Reload the page to log in again."));
        return;
      }
      if (pending && !pending.frame) {
        pending = null;
        showError(_("The connection dropped before the server confirmed your message. It is still in the box below: check the conversation before sending it again."));
        updateControls();
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    setConnectionStatus(connectedOnce ? _("Reconnecting…") : _("Connecting…"));
    const delay = backoff;
    backoff = Math.min(backoff * 2, BACKOFF_MAX);
    reconnectTimer = setTimeout(connect, delay);
  }

  window.addEventListener("online", () => {
    if (!socket && reconnectTimer !== null) {
      backoff = BACKOFF_MIN;
      connect();
    }
  });

  // ---- frames ------------------------------------------------------------------------------

  let reconcileOnSnapshot = false;

  function isOpen(frame) {
    return conversationId !== null && frame.conversation === conversationId;
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "started": return onStarted(frame);
      case "delta": return onDelta(frame);
      case "done": return onDone(frame);
      case "snapshot": return onSnapshot(frame);
      case "conversation": return onConversation(frame);
      case "error": return onError(frame);
      default: return undefined;
    }
  }

  function onStarted(frame) {
    const mine = pending !== null && frame.id === pending.id;
    let userText = "";
    if (mine) {
      userText = pending.content;
      if (pending.replaces) {
        removeFrom(pending.replaces); // an edit or a regeneration: a new branch from there
      } else if (input.value === pending.content) {
        input.value = "";
      }
      pending = null;
      resizeInput();
      if (conversationId === null) adoptConversation(frame.conversation, frame.title);
    } else if (frame.fork && isOpen(frame)) {
      // Another tab forked this conversation: show the branch it is on now.
      upsertSidebar(frame.conversation, frame.title, true);
      forked.add(String(frame.message));
      loadThread();
      return;
    }
    if (frame.fork) forked.add(String(frame.message));
    if (typeof frame.content === "string" && !userText) userText = frame.content;
    if (!isOpen(frame)) {
      if (frame.conversation != null) upsertSidebar(frame.conversation, frame.title, true);
      updateControls();
      return;
    }
    upsertSidebar(frame.conversation, frame.title, true);
    if (frame.title && frame.title !== title) setOpenTitle(frame.title);
    const user = appendMessage({ id: frame.user_message, role: "user", content: userText, status: "done" });
    if (!mine && !userText) user.wrapper.classList.add("is-remote");
    const reply = appendMessage({ id: frame.message, role: "assistant", content: "", model: frame.model, status: "streaming" });
    reply.status = "streaming";
    reply.seq = 0;
    renderNow(reply);
    setStreaming(frame.message);
    stickToBottom = true;
    scrollToBottom();
  }

  function onDelta(frame) {
    if (!isOpen(frame)) return;
    let m = messages.get(String(frame.message));
    if (!m) {
      m = appendMessage({ id: frame.message, role: "assistant", content: "", status: "streaming" });
    }
    const seq = Number(frame.seq);
    if (!(seq > m.seq)) return; // already included (snapshot dedupe)
    if (seq > m.seq + 1 && !m.resyncing) {
      // A gap: ask for a snapshot, which replaces the text exactly.
      m.resyncing = true;
      sendFrame({ type: "attach", conversation: conversationId });
    }
    m.seq = seq;
    m.text += typeof frame.content === "string" ? frame.content : "";
    if (m.status !== "streaming") m.status = "streaming";
    if (streamingId !== m.id) setStreaming(m.id);
    scheduleRender(m);
  }

  function onDone(frame) {
    if (!isOpen(frame)) return;
    const m = messages.get(String(frame.message));
    if (m) {
      m.created = m.created || new Date().toISOString();
      m.status = "done";
      m.finishReason = frame.finish_reason || "";
      m.usage = frame.usage || null;
      if (frame.model) m.model = frame.model;
      if (frame.served_model) m.servedModel = frame.served_model;
      renderNow(m);
    }
    if (streamingId === String(frame.message) || streamingId === null) {
      setStreaming(null);
      announce(_("Reply finished"));
    }
    // A reply on a new branch: fetch the versions the fork made. Otherwise check the ended reply
    // against what the server saved (one small request a reply): a frame lost on the way, say
    // across a reload or a reconnect, is mended instead of staying wrong until the next visit.
    if (forked.delete(String(frame.message))) loadThread();
    else reconcileFromServer();
  }
  const forked = new Set();

  function onSnapshot(frame) {
    if (!isOpen(frame)) return;
    const wasStreaming = streamingId;
    const reconcile = reconcileOnSnapshot;
    reconcileOnSnapshot = false;
    if (frame.message === null || frame.message === undefined) {
      if (wasStreaming !== null) {
        // The reply ended while we were not listening: fetch how it ended.
        const m = messages.get(wasStreaming);
        if (m) { m.status = "done"; renderNow(m); }
        setStreaming(null);
      }
      if (reconcile || wasStreaming !== null) reconcileFromServer();
      return;
    }
    let m = messages.get(String(frame.message));
    if (!m) {
      m = appendMessage({ id: frame.message, role: "assistant", content: "", status: "streaming" });
    }
    m.text = typeof frame.content === "string" ? frame.content : "";
    m.seq = Number(frame.seq) || 0;
    m.resyncing = false;
    if (frame.streaming) {
      m.status = "streaming";
      setStreaming(m.id);
      scheduleRender(m);
      if (reconcile) reconcileFromServer();
    } else {
      m.status = "done";
      renderNow(m);
      if (streamingId === m.id) setStreaming(null);
      reconcileFromServer();
    }
  }

  function onConversation(frame) {
    if (frame.conversation == null) return;
    if (isOpen(frame)) setOpenTitle(frame.title);
    upsertSidebar(frame.conversation, frame.title, false);
  }

  function onError(frame) {
    const text = frame.message || errorFallback(frame.code);
    if (pending !== null && frame.id === pending.id) {
      pending = null; // the composer keeps the text
      updateControls();
      input.focus();
      showError(text);
      return;
    }
    if (frame.conversation != null && conversationId !== null && frame.conversation !== conversationId) {
      return; // about another conversation: not this transcript's business
    }
    showError(text);
  }

  function errorFallback(code) {
    switch (code) {
      case "too_large": return _("The message is too long.");
      case "not_found": return _("That conversation does not exist.");
      case "busy": return _("A reply is already being written in this conversation.");
      case "no_api_key": return _("No API key is set for you or your team.");
      default: return format(_("Something went wrong (%s)."), [code || "error"]);
    }
  }

  /** Brings the transcript in line with the server after missed frames (the branch on show). */
  function reconcileFromServer() {
    if (conversationId === null) return;
    const id = conversationId;
    fetch(urlFor(urls.thread, id), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data || id !== conversationId || !Array.isArray(data.messages)) return;
        const onServer = new Set(data.messages.map((d) => String(d.id)));
        const shown = Array.from(messages.keys());
        if (shown.some((key) => !onServer.has(key) && key !== streamingId)) {
          showThread(data.messages); // another tab switched branches meanwhile
          return;
        }
        for (const d of data.messages) {
          const key = String(d.id);
          if (key === streamingId) continue; // live frames own it
          const m = messages.get(key);
          if (!m) {
            appendMessage({ ...d, status: "done" });
            continue;
          }
          m.versions = (d.versions || []).map(String);
          m.feedback = d.feedback || null;
          if (m.role !== "assistant") { renderActions(m); continue; }
          const reason = d.finish_reason || "";
          if (m.status === "done" && m.text === (d.content || "") && m.finishReason === reason) { renderActions(m); continue; }
          m.text = d.content || "";
          m.status = "done";
          m.finishReason = reason;
          m.usage = d.usage || null;
          if (d.model && !m.model) m.model = d.model;
          scheduleRender(m);
        }
      })
      .catch(() => {});
  }

  // ---- user actions ------------------------------------------------------------------------

  function trySend() {
    if (streamingId !== null || pending !== null) return;
    const content = input.value;
    if (content.trim() === "") return;
    const length = codePoints(content);
    if (length > MAX_CONTENT) {
      showError(format(_("The message is too long: %(length)s characters, at most %(max)s."), { length: formatNumber(length), max: formatNumber(MAX_CONTENT) }));
      return;
    }
    const frame = { type: "send", conversation: conversationId, content: content };
    // A new chat starts with the system prompt of the panel (the user's default unless changed).
    if (conversationId === null && systemPrompt) frame.system_prompt = systemPrompt.value;
    startReply(frame, { content });
  }

  /** Sends a frame that starts a reply (send, edit or regenerate); `started` or `error` answers it. */
  function startReply(frame, expected) {
    if (streamingId !== null || pending !== null) return;
    frame.id = randomId();
    if (modelSelect && modelSelect.value) frame.model = modelSelect.value;
    // Not connected yet (a fresh page, a reconnect): the frame waits and goes out on "open",
    // so typing fast after a page load loses nothing and needs no second try.
    const queued = !sendFrame(frame);
    pending = { id: frame.id, content: expected.content, replaces: expected.replaces || null, frame: queued ? frame : null };
    if (queued) setConnectionStatus(_("Connecting… your message goes out as soon as the server answers"));
    hideError();
    stickToBottom = true;
    updateControls();
  }

  function stop() {
    if (streamingId === null || conversationId === null) return;
    if (!sendFrame({ type: "stop", conversation: conversationId })) {
      showError(_("Not connected to the server, so the reply cannot be stopped right now."));
    }
  }

  function resizeInput() {
    if (supportsFieldSizing) return;
    const lines = input.value.split("\n").length;
    input.rows = Math.max(1, Math.min(10, lines));
  }
  const supportsFieldSizing = typeof CSS !== "undefined" && CSS.supports && CSS.supports("field-sizing", "content");

  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
    if (event.isComposing || event.keyCode === 229) return; // IME is composing
    event.preventDefault();
    trySend();
  });
  input.addEventListener("input", () => { resizeInput(); updateControls(); });
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    trySend();
  });
  stopButton.addEventListener("click", (event) => {
    event.preventDefault();
    stop();
  });
  document.addEventListener("keydown", (event) => {
    const command = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;
    if (command && event.key.toLowerCase() === "k") {
      event.preventDefault(); // the browser's own Ctrl+K searches the web
      location.assign(urls.home);
      return;
    }
    if (command && event.key === "/") {
      event.preventDefault();
      if (Sidebar) Sidebar.focusSearch();
      return;
    }
    if (event.key !== "Escape" || event.isComposing) return;
    if (app.classList.contains("sidebar-open")) {
      closeSidebar();
      if (sidebarToggle) sidebarToggle.focus();
      return;
    }
    if (streamingId !== null) {
      event.preventDefault();
      stop();
    }
  });

  errorBanner.querySelector('[data-action="dismiss-error"]').addEventListener("click", () => {
    hideError();
    input.focus();
  });

  if (sidebarToggle) sidebarToggle.addEventListener("click", toggleSidebar);
  const backdrop = $("#sidebar-backdrop");
  if (backdrop) backdrop.addEventListener("click", closeSidebar);

  Render.bindCopyButtons(messageList);

  // Renamed in the sidebar: the open conversation's heading follows.
  document.addEventListener("tokenoff:renamed", (event) => {
    if (String(event.detail.id) === String(conversationId)) setOpenTitle(event.detail.title);
  });

  // The page for a pushed URL is the server's: going back or forward loads it.
  window.addEventListener("popstate", () => { location.reload(); });

  // ---- start -------------------------------------------------------------------------------

  adoptServerMessages();
  const last = Array.from(messages.values()).pop();
  if (last && last.role === "assistant" && last.status === "streaming") setStreaming(last.id);
  setOpenTitle(title);
  resizeInput();
  updateControls();
  scrollToBottom();
  connect();

  /** A small read-only view for people's tools and tests. */
  window.TokenOffChat = Object.freeze({
    get conversation() { return conversationId; },
    get streaming() { return streamingId; },
    get pending() { return pending ? pending.id : null; },
    get connected() { return !!socket && socket.readyState === WebSocket.OPEN; },
    messageText(id) { const m = messages.get(String(id)); return m ? m.text : null; },
  });
})();
