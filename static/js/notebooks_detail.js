// /notebooks/<id>: the page is rendered on the server; this module keeps its status fresh while a
// build or deploy is under way (reloading once it changes) and manages its repository link (one per notebook).

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
const REPOSITORY = `/api/v1/notebooks/${notebookId}/repository`;
const submit = document.getElementById("repository-submit");

function linkItem(link) {
  const remove = h(
    "button",
    { type: "button", className: "button button-small button-danger", onclick: (event) => unlink(link, event.currentTarget) },
    "Unlink",
  );
  return h(
    "li",
    { className: "repo-item", dataset: { linkId: link.id } },
    h(
      "dl",
      { className: "facts" },
      h("dt", {}, "Repository"),
      h("dd", {}, h("span", { className: "repo-url" }, link.repo_url), h("span", { className: "muted" }, ` (${link.provider})`)),
      h("dt", {}, "Branch"),
      h("dd", {}, h("code", {}, link.branch)),
      h("dt", {}, "Notebook path"),
      h("dd", {}, h("code", {}, link.path)),
      h("dt", {}, "Webhook URL"),
      h("dd", {}, h("code", { className: "webhook-url" }, link.webhook_url)),
      h("dt", {}, "Last commit"),
      h("dd", {}, link.last_commit ? h("code", {}, String(link.last_commit).slice(0, 12)) : "none yet"),
      h("dt", {}, "Linked"),
      h("dd", {}, h("time", { dateTime: link.created_at }, formatTime(link.created_at))),
    ),
    remove,
  );
}

/** Show the notebook's link (or none), and prefill the form so it can be changed. */
function showLink(link) {
  list.replaceChildren(...(link ? [linkItem(link)] : []));
  empty.hidden = Boolean(link);
  submit.textContent = link ? "Replace link" : "Link repository";
  if (link) {
    form.elements.provider.value = link.provider;
    form.elements.repo_url.value = link.repo_url;
    form.elements.branch.value = link.branch;
    form.elements.path.value = link.path;
  }
}

async function loadLink() {
  // The list of the caller's links, not GET on the notebook's link: that answers 404 when there is
  // none, which the browser would log as a failed request.
  try {
    const links = await api("/api/v1/repositories");
    showLink(links.find((link) => String(link.notebook_id) === notebookId) ?? null);
    notify(notice, "");
  } catch (error) {
    notify(notice, `Could not load the repository link: ${describeError(error)}`);
  }
  root.dataset.linksLoaded = "true";
}

async function unlink(link, button) {
  if (!window.confirm(`Unlink ${link.repo_url}? Pushes will no longer redeploy this notebook.`)) return;
  button.disabled = true;
  try {
    await api(REPOSITORY, { method: "DELETE" });
    notify(notice, `Unlinked ${link.repo_url}.`, "info");
    form.reset();
  } catch (error) {
    notify(notice, `Could not unlink: ${describeError(error)}`);
  }
  await loadLink();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = ["provider", "repo_url", "branch", "path", "secret"];
  const body = Object.fromEntries(fields.map((name) => [name, form.elements[name].value.trim()]));
  body.secret = form.elements.secret.value; // a secret keeps its spaces
  submit.disabled = true;
  notify(formNotice, "");
  try {
    await api(REPOSITORY, { method: "POST", body });
    form.elements.secret.value = "";
    notify(formNotice, `Linked ${body.repo_url} (${body.branch}).`, "info");
  } catch (error) {
    notify(formNotice, describeError(error));
  } finally {
    submit.disabled = false;
  }
  await loadLink();
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

await loadLink();
watchStatus();
