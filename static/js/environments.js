// The /environments page: list, create from a template, start/stop/restart/delete.
// Statuses are refreshed every 2 s while an environment is creating or installing.

import { api, describeError, formatTime, h, notify } from "./api.js";

const POLL_MS = 2000;
const BUSY = new Set(["creating", "installing"]);
// Which actions each status allows (the API answers 409 otherwise).
const ACTIONS = {
  running: ["stop", "restart"],
  stopped: ["start", "restart"],
  error: ["restart"],
  creating: [],
  installing: [],
};
const LABELS = { start: "Start", stop: "Stop", restart: "Restart" };

const root = document.getElementById("environments");
const tableBody = document.getElementById("environment-rows");
const emptyRow = document.getElementById("environment-empty");
const pageNotice = document.getElementById("environments-notice");
const form = document.getElementById("create-environment");
const formNotice = document.getElementById("create-notice");
const templateSelect = document.getElementById("template");

let templates = new Map();
let pollTimer = null;

function statusBadge(status) {
  return h("span", { className: `status status-${status}`, dataset: { status } }, status);
}

function actionButton(environment, action) {
  return h(
    "button",
    {
      type: "button",
      className: action === "delete" ? "button button-small button-danger" : "button button-small button-quiet",
      dataset: { action },
      onclick: (event) => act(environment, action, event.currentTarget),
    },
    action === "delete" ? "Delete" : LABELS[action],
  );
}

function row(environment) {
  const template = templates.get(environment.template_id);
  const actions = (ACTIONS[environment.status] ?? []).map((action) => actionButton(environment, action));
  const links = [];
  if (environment.status === "running") {
    links.push(
      h("a", { className: "button button-small", href: `/environments/${environment.id}/terminal` }, "Terminal"),
    );
  }
  const reason = environment.status === "error" && environment.status_reason;
  return h(
    "tr",
    { dataset: { environmentId: environment.id, status: environment.status } },
    h("td", {}, h("a", { href: `/environments/${environment.id}`, className: "environment-name" }, environment.name)),
    h("td", {}, template?.display_name ?? environment.template_name ?? ""),
    h("td", {}, statusBadge(environment.status), reason ? h("div", { className: "status-reason" }, reason) : null),
    h("td", {}, h("time", { dateTime: environment.created_at }, formatTime(environment.created_at))),
    h("td", { className: "row-actions" }, ...links, ...actions, actionButton(environment, "delete")),
  );
}

function render(environments) {
  tableBody.replaceChildren(...environments.map(row));
  emptyRow.hidden = environments.length > 0;
}

async function refresh() {
  clearTimeout(pollTimer);
  try {
    const environments = await api("/api/v1/environments");
    render(environments);
    notify(pageNotice, "");
    if (environments.some((environment) => BUSY.has(environment.status))) pollTimer = setTimeout(refresh, POLL_MS);
  } catch (error) {
    notify(pageNotice, `Could not load your environments: ${describeError(error)}`);
    pollTimer = setTimeout(refresh, POLL_MS * 2);
  }
  root.dataset.loaded = "true";
}

async function act(environment, action, button) {
  if (action === "delete" && !window.confirm(`Delete the environment “${environment.name}”? Its files are removed.`)) {
    return;
  }
  const buttons = button.closest("td").querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    if (action === "delete") {
      await api(`/api/v1/environments/${environment.id}`, { method: "DELETE" });
      notify(pageNotice, `Deleted “${environment.name}”.`, "info");
    } else {
      await api(`/api/v1/environments/${environment.id}/${action}`, { method: "POST" });
      notify(pageNotice, "");
    }
  } catch (error) {
    notify(pageNotice, `${LABELS[action] ?? "Delete"} failed: ${describeError(error)}`);
  }
  await refresh();
}

async function loadTemplates() {
  try {
    const list = await api("/api/v1/templates");
    const usable = list.filter((template) => template.status !== "deprecated");
    templates = new Map(list.map((template) => [template.id, template]));
    templateSelect.replaceChildren(
      ...usable.map((template) =>
        h("option", { value: template.id }, template.status === "beta" ? `${template.display_name} (beta)` : template.display_name),
      ),
    );
    // Python 3.11 is the default, as in 001's API.
    const preferred = usable.find((template) => template.name === "python-3.11");
    if (preferred) templateSelect.value = preferred.id;
    if (usable.length === 0) {
      notify(formNotice, "No templates are available yet: an admin must initialize them.");
      form.querySelector("button[type=submit]").disabled = true;
    }
  } catch (error) {
    notify(formNotice, `Could not load the templates: ${describeError(error)}`);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = form.querySelector("button[type=submit]");
  const name = form.elements.name.value.trim();
  submit.disabled = true;
  notify(formNotice, "");
  try {
    const environment = await api("/api/v1/environments", {
      method: "POST",
      body: { name, template_id: templateSelect.value },
    });
    form.elements.name.value = "";
    notify(formNotice, `Creating “${environment.name}”…`, "info");
  } catch (error) {
    notify(formNotice, describeError(error));
  } finally {
    submit.disabled = false;
  }
  await refresh();
});

await loadTemplates();
await refresh();
