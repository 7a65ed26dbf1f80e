// Projects in the sidebar, above the recent chats (templates/chat/projects_sidebar.html): each opens to
// its chats; "+" makes one; a chat dragged from the lists onto a project, or its ⋯ menu's "Move to
// project…" (a dialog, for the keyboard), files it there (POST /c/<id>/project/). Renaming, the
// instructions, sharing and deleting are on the project's page (/p/<id>/).
import { announce, showError } from "./store.js";
import { _, displayTitle, format, getJSON, post, urlFor } from "./util.js";

const DRAG_TYPE = "application/x-tokenoff-conversation";

const root = document.getElementById("projects");
const list = document.getElementById("project-list");
let projects = []; // the last list.json: [{id, name, own, writable, chats}]

const urls = root ? root.dataset : {};

function currentConversation() {
  const app = document.getElementById("chat-app");
  const id = app && window.TokenOffChat ? window.TokenOffChat.conversation : app && app.dataset.conversation;
  return id ? String(id) : "";
}

function chatItem(chat) {
  const item = document.createElement("li");
  item.dataset.projectChat = chat.id;
  const link = document.createElement("a");
  link.href = urlFor(urls.conversationUrl, chat.id);
  if (String(chat.id) === currentConversation()) link.setAttribute("aria-current", "page");
  const title = document.createElement("span");
  title.className = "conversation-title";
  title.textContent = displayTitle(chat.title);
  link.append(title);
  item.append(link);
  return item;
}

/** One project's row and its chats, as the template draws them. */
function projectItem(project, expanded) {
  const item = document.createElement("li");
  item.className = "project";
  item.dataset.project = project.id;
  if (project.own) item.dataset.own = "true";
  const row = document.createElement("div");
  row.className = "project-row";
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "project-toggle";
  toggle.dataset.action = "toggle-project";
  toggle.setAttribute("aria-expanded", String(expanded));
  toggle.setAttribute("aria-controls", "project-chats-" + project.id);
  const name = document.createElement("span");
  name.className = "project-name";
  name.textContent = project.name;
  toggle.append(name);
  const open = document.createElement("a");
  open.className = "project-open";
  open.href = urlFor(urls.pageUrl, project.id);
  open.title = _("Project page: instructions and sharing");
  open.setAttribute("aria-label", format(_("Open the project %s"), [project.name]));
  open.textContent = "⋯";
  row.append(toggle, open);
  const chats = document.createElement("ul");
  chats.id = "project-chats-" + project.id;
  chats.className = "project-chats";
  chats.hidden = !expanded;
  for (const chat of project.chats) chats.append(chatItem(chat));
  if (project.writable) chats.append(newChatItem(project));
  item.append(row, chats);
  return item;
}

function newChatItem(project) {
  const fresh = document.createElement("li");
  fresh.className = "project-new-chat";
  const link = document.createElement("a");
  link.href = urls.homeUrl + "?project=" + encodeURIComponent(project.id);
  link.textContent = _("+ New chat in this project");
  fresh.append(link);
  return fresh;
}

function expandedIds() {
  return new Set(Array.from(list.querySelectorAll('[data-action="toggle-project"][aria-expanded="true"]'))
    .map((button) => button.closest("[data-project]").dataset.project));
}

/** Draws the list again from the server's: after a create or a move. */
export function refresh(expand) {
  return getJSON(urls.listUrl).then((data) => {
    if (!data) return;
    projects = data.projects;
    const open = expandedIds();
    if (expand) open.add(String(expand));
    list.replaceChildren(...projects.map((p) => projectItem(p, open.has(String(p.id)))));
  });
}

function toggleProject(button) {
  const chats = document.getElementById(button.getAttribute("aria-controls"));
  const expanded = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(expanded));
  if (chats) chats.hidden = !expanded;
}

/** A small modal dialog: `build(form)` fills it; resolves to the submitter's value, or null. */
function dialog(title, build) {
  return new Promise((resolve) => {
    const box = document.createElement("dialog");
    box.className = "project-dialog";
    const form = document.createElement("form");
    form.method = "dialog";
    const heading = document.createElement("h2");
    heading.textContent = title;
    form.append(heading);
    build(form);
    const cancel = document.createElement("button");
    cancel.type = "submit";
    cancel.value = "";
    cancel.formNoValidate = true;
    cancel.className = "button button-secondary";
    cancel.textContent = _("Cancel");
    form.append(cancel);
    box.append(form);
    document.body.append(box);
    box.addEventListener("close", () => {
      box.remove();
      resolve(box.returnValue || null);
    });
    box.showModal();
  });
}

function createProject() {
  let input = null;
  dialog(_("New project"), (form) => {
    const label = document.createElement("label");
    label.textContent = _("Name");
    input = document.createElement("input");
    input.type = "text";
    input.name = "name";
    input.maxLength = 100;
    input.required = true;
    label.append(input);
    const create = document.createElement("button");
    create.type = "submit";
    create.value = "create";
    create.className = "button button-primary";
    create.textContent = _("Create");
    form.append(label, create);
  }).then((choice) => {
    if (choice !== "create" || !input.value.trim()) return;
    post(urls.createUrl, { name: input.value })
      .then((made) => refresh(made.id).then(() => announce(format(_("Project %s created."), [made.name]))))
      .catch((error) => showError(error.message));
  });
}

/** Files the chat into the project (or out of any, for ""), then draws the projects again. */
export function move(conversationId, projectId) {
  return post(urlFor(urls.moveUrl, conversationId), { project: projectId })
    .then(() => refresh(projectId))
    .then(() => {
      const project = projects.find((p) => String(p.id) === String(projectId));
      announce(project ? format(_("Moved to %s."), [project.name]) : _("Moved out of the project."));
    })
    .catch((error) => showError(error.message));
}

function askMove(item) {
  refresh().then(() => chooseProject(item.dataset.conversation));
}

function chooseProject(id) {
  const choices = projects.filter((p) => p.writable);
  dialog(_("Move to project"), (form) => {
    if (!choices.length) {
      const none = document.createElement("p");
      none.textContent = _("No project yet: make one with the + next to Projects.");
      form.append(none);
    }
    for (const project of choices) {
      const choice = document.createElement("button");
      choice.type = "submit";
      choice.value = "p" + project.id;
      choice.className = "button button-secondary project-choice";
      choice.textContent = project.name;
      form.append(choice);
    }
    const out = document.createElement("button");
    out.type = "submit";
    out.value = "out";
    out.className = "button button-secondary project-choice";
    out.textContent = _("No project");
    form.append(out);
  }).then((choice) => {
    if (choice === "out") move(id, "");
    else if (choice) move(id, choice.slice(1));
  });
}

// Drag and drop: a chat's link from the lists onto a project's row.
function onDragStart(event) {
  const item = event.target.closest && event.target.closest("li[data-conversation]");
  if (!item || !event.dataTransfer) return;
  event.dataTransfer.setData(DRAG_TYPE, item.dataset.conversation);
  event.dataTransfer.effectAllowed = "move";
}

const dropTarget = (event) => {
  const project = event.target.closest && event.target.closest("[data-project]");
  return project && event.dataTransfer && event.dataTransfer.types.includes(DRAG_TYPE) ? project : null;
};

function onDragOver(event) {
  const project = dropTarget(event);
  if (!project) return;
  event.preventDefault(); // a drop target
  event.dataTransfer.dropEffect = "move";
  project.classList.add("is-drop-target");
}

function onDragLeave(event) {
  const project = dropTarget(event);
  if (project && !project.contains(event.relatedTarget)) project.classList.remove("is-drop-target");
}

function onDrop(event) {
  const project = dropTarget(event);
  if (!project) return;
  event.preventDefault();
  project.classList.remove("is-drop-target");
  move(event.dataTransfer.getData(DRAG_TYPE), project.dataset.project);
}

export function init() {
  if (!root) return;
  root.addEventListener("click", (event) => {
    const toggle = event.target.closest('[data-action="toggle-project"]');
    if (toggle) toggleProject(toggle);
    else if (event.target.closest('[data-action="new-project"]')) createProject();
  });
  const nav = root.closest("nav") || document;
  nav.addEventListener("dragstart", onDragStart);
  root.addEventListener("dragover", onDragOver);
  root.addEventListener("dragleave", onDragLeave);
  root.addEventListener("drop", onDrop);
  document.addEventListener("tokenoff:move-to-project", (event) => askMove(event.target));
}
