// The /deployments page: the user's deployments (every revision, newest first, a page at a time,
// filtered by status), with Open app, Stop, Redeploy and a Logs panel per row. Statuses are
// refreshed every 2 s while any deployment on the page is deploying.

import { api, describeError, formatTime, h, notify } from "./api.js";

const POLL_MS = 2000;
const PAGE = 25;
const BUSY = new Set(["deploying"]);

const tableBody = document.getElementById("deployment-rows");
const empty = document.getElementById("deployment-empty");
const notice = document.getElementById("deployments-notice");
const announce = document.getElementById("deployments-announce");
const statusFilter = document.getElementById("status-filter");
const range = document.getElementById("deployments-range");
const previous = document.getElementById("deployments-prev");
const next = document.getElementById("deployments-next");
// Notebook names by id, rendered into the page by the server (the deployments API has ids only).
const notebookNames = JSON.parse(document.getElementById("notebook-names")?.textContent || "{}");

let deployments = [];
let total = 0;
let skip = 0;
let pollTimer = null;
const openLogs = new Set();

function badge(status) {
  return h("span", { className: `status status-${status}`, dataset: { status } }, status);
}

function button(label, onclick, className = "button button-small button-quiet") {
  return h("button", { type: "button", className, onclick }, label);
}

function resources(deployment) {
  const instances = `${deployment.min_instances ?? 0}–${deployment.max_instances ?? "?"} instances`;
  return `${deployment.cpu ?? "?"} CPU · ${deployment.memory ?? "?"} · ${instances}`;
}

function row(deployment) {
  const { id, status } = deployment;
  const actions = [];
  if (status === "deployed" && deployment.service_url) {
    actions.push(h("a", { className: "button button-small", href: deployment.service_url, target: "_blank", rel: "noopener" }, "Open app"));
  }
  if (status === "deployed" || status === "deploying") {
    actions.push(button("Stop", (event) => act(deployment, "stop", event.currentTarget), "button button-small button-danger"));
  }
  actions.push(button("Redeploy", (event) => act(deployment, "redeploy", event.currentTarget)));
  actions.push(
    h(
      "button",
      {
        type: "button",
        className: "button button-small button-quiet",
        "aria-expanded": String(openLogs.has(id)),
        "aria-controls": `logs-${id}`,
        onclick: () => toggleLogs(id),
      },
      "Logs",
    ),
  );
  const notebookId = deployment.notebook_id;
  const reason = status === "failed" && deployment.error_message;
  const main = h(
    "tr",
    { dataset: { deploymentId: id, status, service: deployment.service_name, revision: deployment.revision } },
    h("td", {}, h("span", { className: "service-name" }, deployment.service_name)),
    h("td", {}, notebookId ? h("a", { href: `/notebooks/${notebookId}` }, notebookNames[notebookId] || `Notebook ${notebookId}`) : "–"),
    h("td", {}, `r${deployment.revision ?? 1}`),
    h("td", {}, badge(status), reason ? h("div", { className: "status-reason" }, reason) : null),
    h("td", { className: "muted" }, resources(deployment)),
    h("td", {}, h("time", { dateTime: deployment.deployed_at || deployment.created_at }, formatTime(deployment.deployed_at || deployment.created_at))),
    h("td", { className: "row-actions" }, ...actions),
  );
  if (!openLogs.has(id)) return [main];
  const panel = h(
    "tr",
    { className: "log-panel", id: `logs-${id}` },
    h("td", { colSpan: 7 }, h("div", { className: "log-box" }, h("pre", { className: "build-log-lines", dataset: { logsFor: id } }, "Loading…"))),
  );
  return [main, panel];
}

function render() {
  tableBody.replaceChildren(...deployments.flatMap(row));
  const filtered = Boolean(statusFilter.value);
  empty.hidden = deployments.length > 0;
  empty.firstChild.textContent = filtered ? `No ${statusFilter.value} deployments. ` : "No deployments yet. ";
  range.textContent = total ? `${skip + 1}–${skip + deployments.length} of ${total}` : "";
  previous.disabled = skip === 0;
  next.disabled = skip + deployments.length >= total;
  for (const id of openLogs) loadLogs(id);
}

async function refresh() {
  clearTimeout(pollTimer);
  const status = statusFilter.value ? `&status=${encodeURIComponent(statusFilter.value)}` : "";
  try {
    const page = await api(`/api/v1/deployments?skip=${skip}&limit=${PAGE}${status}`);
    if (!page.deployments.length && skip > 0) {
      skip = Math.max(0, skip - PAGE);
      return refresh();
    }
    deployments = page.deployments;
    total = page.total;
    render();
    notify(notice, "");
  } catch (error) {
    notify(notice, `Could not load your deployments: ${describeError(error)}`);
  }
  document.getElementById("deployments").dataset.loaded = "true";
  if (deployments.some((deployment) => BUSY.has(deployment.status))) pollTimer = setTimeout(refresh, POLL_MS);
}

async function act(deployment, action, target) {
  if (action === "stop" && !window.confirm(`Stop ${deployment.service_name} (revision ${deployment.revision})?`)) return;
  target.closest("td").querySelectorAll("button").forEach((b) => (b.disabled = true));
  try {
    const answer = await api(`/api/v1/deployments/${deployment.id}/${action}`, { method: "POST" });
    const revision = answer?.revision ? ` as revision ${answer.revision}` : "";
    const text = action === "stop" ? `Stopped ${deployment.service_name}.` : `Redeploying ${deployment.service_name}${revision}…`;
    notify(notice, text, "info");
    announce.textContent = text;
  } catch (error) {
    notify(notice, `${action === "stop" ? "Stop" : "Redeploy"} failed: ${describeError(error)}`);
  }
  await refresh();
}

function logText(entry) {
  if (typeof entry === "string") return entry;
  const text = entry?.message ?? entry?.line ?? entry?.text ?? "";
  return entry?.timestamp ? `${formatTime(entry.timestamp)}  ${text}` : text;
}

async function loadLogs(id) {
  const target = tableBody.querySelector(`pre[data-logs-for="${id}"]`);
  if (!target) return;
  try {
    const body = await api(`/api/v1/deployments/${id}/logs`);
    const lines = Array.isArray(body) ? body : (body?.logs ?? body?.lines ?? []);
    const text = Array.isArray(lines) ? lines.map(logText).join("\n") : String(lines);
    target.textContent = text || "No log lines yet.";
  } catch (error) {
    target.textContent = `Could not load the logs: ${describeError(error)}`;
  }
}

function toggleLogs(id) {
  if (openLogs.has(id)) openLogs.delete(id);
  else openLogs.add(id);
  render();
}

statusFilter.addEventListener("change", () => {
  skip = 0;
  refresh();
});
previous.addEventListener("click", () => {
  skip = Math.max(0, skip - PAGE);
  refresh();
});
next.addEventListener("click", () => {
  skip += PAGE;
  refresh();
});
await refresh();
