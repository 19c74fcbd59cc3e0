// /sessions/<uuid>: the workspace's file tree, a textarea editor, and the terminal over /ws.

import { api, describeError, h, notify } from "./api.js";
import { createTerminal, sessionProtocol, showStatus, TerminalConnection } from "./terminal.js";

const root = document.getElementById("session");
const sessionId = root.dataset.sessionId;
const tree = document.getElementById("file-tree");
const notice = document.getElementById("session-notice");
const editor = document.getElementById("editor");
const currentName = document.getElementById("current-file");
const saveButton = document.getElementById("save-file");
const deleteButton = document.getElementById("delete-file");
const newFileForm = document.getElementById("new-file");

let currentPath = null;
let dirty = false;
let openRequest = 0;

const filePath = (path) => `/api/workspace/${sessionId}/file/${path.split("/").map(encodeURIComponent).join("/")}`;

// --- File tree ----------------------------------------------------------------------------------

function treeItem(item) {
  const depth = item.path.split("/").length - 1;
  const label =
    item.type === "folder"
      ? h("span", { className: "tree-folder" }, `${item.name}/`)
      : h(
          "button",
          {
            type: "button",
            className: "tree-file",
            dataset: { path: item.path },
            "aria-current": item.path === currentPath ? "true" : null,
            onclick: () => openFile(item.path),
          },
          item.name,
        );
  return h("li", { style: `padding-left: ${depth * 1}rem`, dataset: { type: item.type } }, label);
}

async function loadTree() {
  try {
    const items = await api(`/api/workspace/${sessionId}/files`);
    tree.replaceChildren(...items.map(treeItem));
    if (items.length === 0) tree.append(h("li", { className: "empty" }, "No files."));
    tree.dataset.loaded = "true";
    return items;
  } catch (error) {
    notify(notice, `Could not list the files: ${describeError(error)}`);
    return [];
  }
}

// --- Editor -------------------------------------------------------------------------------------

function setCurrent(path, content) {
  currentPath = path;
  editor.value = content;
  editor.disabled = path === null;
  saveButton.disabled = path === null;
  deleteButton.disabled = path === null;
  currentName.textContent = path ?? "No file open";
  dirty = false;
  tree.querySelectorAll(".tree-file").forEach((button) => {
    button.toggleAttribute("aria-current", button.dataset.path === path);
  });
}

async function openFile(path) {
  if (dirty && !window.confirm(`Discard your changes to ${currentPath}?`)) return;
  dirty = false;
  const request = ++openRequest;
  try {
    const file = await api(filePath(path));
    // A later open, or edits typed while this one loaded, win over this answer.
    if (request !== openRequest || dirty) return;
    setCurrent(file.path ?? path, file.content ?? "");
    notify(notice, "");
  } catch (error) {
    notify(notice, `Could not open ${path}: ${describeError(error)}`);
  }
}

async function save() {
  if (currentPath === null) return;
  saveButton.disabled = true;
  try {
    const response = await api(filePath(currentPath), { method: "POST", body: { content: editor.value } });
    dirty = false;
    notify(notice, response?.message || `Saved ${currentPath}`, "info");
  } catch (error) {
    notify(notice, `Could not save ${currentPath}: ${describeError(error)}`);
  } finally {
    saveButton.disabled = false;
  }
}

async function remove() {
  if (currentPath === null || !window.confirm(`Delete ${currentPath}?`)) return;
  try {
    await api(filePath(currentPath), { method: "DELETE" });
    notify(notice, `Deleted ${currentPath}`, "info");
    setCurrent(null, "");
    await loadTree();
  } catch (error) {
    notify(notice, `Could not delete ${currentPath}: ${describeError(error)}`);
  }
}

editor.addEventListener("input", () => (dirty = true));
editor.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "s") {
    event.preventDefault();
    save();
  }
});
saveButton.addEventListener("click", save);
deleteButton.addEventListener("click", remove);
document.getElementById("refresh-files").addEventListener("click", loadTree);

newFileForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const path = newFileForm.elements.path.value.trim().replace(/^\/+/, "");
  if (!path) return;
  try {
    await api(filePath(path), { method: "POST", body: { content: "" } });
    newFileForm.reset();
    await loadTree();
    dirty = false;
    await openFile(path);
  } catch (error) {
    notify(notice, `Could not create ${path}: ${describeError(error)}`);
  }
});

window.addEventListener("beforeunload", (event) => {
  if (dirty) event.preventDefault();
});

// --- Terminal -----------------------------------------------------------------------------------

const statusElement = document.getElementById("terminal-status");
const term = createTerminal(document.getElementById("terminal"));
const connection = new TerminalConnection(term, sessionProtocol(sessionId, { onReady: loadTree }), {
  onStatus: (state, text) => showStatus(statusElement, state, text),
});

setCurrent(null, "");
const items = await loadTree();
connection.connect();
const first = items.find((item) => item.type === "file");
if (first) await openFile(first.path);
