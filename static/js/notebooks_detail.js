// /notebooks/<id>: the page is rendered on the server; this module keeps its status fresh while a
// build or deploy is under way (reloading once it changes) and manages the repository links.

import { api, describeError, formatTime, h, notify } from "./api.js";

const BUSY = new Set(["building", "deploying"]);
const POLL_MS = 2000;

const root = document.getElementById("notebook");
const notebookId = root.dataset.notebookId;
const list = document.getElementById("repository-list");
const empty = document.getElementById("repository-empty");
const notice = document.getElementById("repositories-notice");
const form = document.getElementById("repository-form");
const formNotice = document.getElementById("repository-form-notice");
const REPOSITORIES = `/api/v1/notebooks/${notebookId}/repository`;

/** The links in any of the usual envelopes (a bare array, or {repositories|results|items: [...]}). */
function listOf(body) {
  if (Array.isArray(body)) return body;
  if (body && "repo_url" in body) return [body];
  return body?.repositories ?? body?.links ?? body?.results ?? body?.items ?? [];
}

function linkItem(link) {
  const remove = h(
    "button",
    {
      type: "button",
      className: "button button-small button-danger",
      onclick: (event) => removeLink(link, event.currentTarget),
    },
    "Remove",
  );
  return h(
    "li",
    { className: "repo-item", dataset: { linkId: link.id } },
    h(
      "div",
      {},
      h("a", { href: link.repo_url, rel: "noopener noreferrer", target: "_blank" }, link.repo_url),
      " ",
      h("span", { className: "tag" }, link.branch),
      " ",
      h("code", {}, link.path),
      link.provider ? h("span", { className: "muted" }, ` · ${link.provider}`) : null,
      link.last_commit ? h("span", { className: "muted" }, ` · last commit ${String(link.last_commit).slice(0, 10)}`) : null,
      link.created_at ? h("span", { className: "muted" }, ` · linked ${formatTime(link.created_at)}`) : null,
    ),
    remove,
  );
}

async function loadLinks() {
  try {
    const links = listOf(await api(REPOSITORIES));
    list.replaceChildren(...links.map(linkItem));
    empty.hidden = links.length > 0;
    notify(notice, "");
  } catch (error) {
    notify(notice, `Could not load the repository links: ${describeError(error)}`);
  }
  root.dataset.linksLoaded = "true";
}

async function removeLink(link, button) {
  if (!window.confirm(`Unlink ${link.repo_url} (${link.branch})? Pushes will no longer redeploy this notebook.`)) return;
  button.disabled = true;
  try {
    await api(`${REPOSITORIES}/${link.id}`, { method: "DELETE" });
    notify(notice, `Unlinked ${link.repo_url}.`, "info");
  } catch (error) {
    notify(notice, `Could not unlink: ${describeError(error)}`);
  }
  await loadLinks();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = form.querySelector("button[type=submit]");
  const body = Object.fromEntries(["repo_url", "branch", "path", "secret"].map((name) => [name, form.elements[name].value.trim()]));
  submit.disabled = true;
  notify(formNotice, "");
  try {
    await api(REPOSITORIES, { method: "POST", body });
    form.reset();
    notify(formNotice, `Linked ${body.repo_url}.`, "info");
  } catch (error) {
    notify(formNotice, describeError(error));
  } finally {
    submit.disabled = false;
  }
  await loadLinks();
});

/** While a build or deploy runs, watch the status; a change re-renders the page from the server. */
async function watchStatus() {
  if (!BUSY.has(root.dataset.status)) return;
  try {
    const notebook = await api(`/api/v1/notebooks/${notebookId}`);
    if (notebook.status !== root.dataset.status) {
      location.reload();
      return;
    }
  } catch {
    // A transient failure: try again on the next round.
  }
  setTimeout(watchStatus, POLL_MS);
}

await loadLinks();
watchStatus();
