// /environments/<id>: status and actions, resources, metrics (while running), logs (history from
// the logs endpoint plus live lines from the logs socket) and the terminal.

import { api, describeError, formatBytes, formatTime, h, notify, socketUrl } from "./api.js";
import { mountEnvironmentTerminal } from "./environment_terminal.js";

const BUSY = new Set(["creating", "installing"]);
const ACTIONS = {
  running: ["stop", "restart"],
  stopped: ["start", "restart"],
  error: ["restart"],
  creating: [],
  installing: [],
};
const LABELS = { start: "Start", stop: "Stop", restart: "Restart", delete: "Delete" };
const MAX_LOG_LINES = 1000;

const root = document.getElementById("environment");
const environmentId = root.dataset.environmentId;
const notice = document.getElementById("environment-notice");
const statusBadge = document.getElementById("environment-status");
const actions = document.getElementById("environment-actions");
const logList = document.getElementById("logs");

let environment = null;
let pollTimer = null;
const seenLogs = new Set();

const terminal = mountEnvironmentTerminal({
  container: document.getElementById("terminal"),
  statusElement: document.getElementById("terminal-status"),
  environmentId,
  canConnect: async () => (await load()).status === "running",
});

function setText(id, text) {
  const element = document.getElementById(id);
  if (element) element.textContent = text ?? "–";
}

function renderActions() {
  const buttons = [...(ACTIONS[environment.status] ?? []), "delete"].map((action) =>
    h(
      "button",
      {
        type: "button",
        className: `button button-small ${action === "delete" ? "button-danger" : "button-quiet"}`,
        dataset: { action },
        onclick: () => act(action),
      },
      LABELS[action],
    ),
  );
  actions.replaceChildren(...buttons);
}

function render() {
  const { status } = environment;
  root.dataset.status = status;
  statusBadge.textContent = status;
  statusBadge.className = `status status-${status}`;
  statusBadge.dataset.status = status;
  setText("environment-name", environment.name);
  setText("info-image", environment.docker_image);
  setText("info-cpu", environment.resources?.cpu);
  setText("info-memory", environment.resources?.memory);
  setText("info-storage", environment.resources?.storage);
  setText("info-created", formatTime(environment.created_at));
  setText("info-started", status === "running" ? formatTime(environment.started_at) : "–");
  const reason = environment.status_reason || environment.stop_reason;
  setText("info-reason", reason || "–");
  document.getElementById("metrics").hidden = status !== "running";
  document.getElementById("metrics-idle").hidden = status === "running";
  renderActions();
}

/** Fetch the environment, re-render, and return it. */
async function load() {
  const previous = environment?.status;
  environment = await api(`/api/v1/environments/${environmentId}`);
  render();
  if (previous !== environment.status) statusChanged();
  return environment;
}

function statusChanged() {
  if (environment.status === "running") terminal.connect();
  else terminal.pause(BUSY.has(environment.status) ? "Waiting for the environment to start…" : `Environment ${environment.status}`);
}

async function loadMetrics() {
  const metrics = await api(`/api/v1/environments/${environmentId}/metrics`);
  setText("metric-cpu", `${metrics.cpu.usage_percent.toFixed(1)} %`);
  setText("metric-cpu-limit", metrics.cpu.limit ? `of ${metrics.cpu.limit}` : "");
  setText("metric-memory", formatBytes(metrics.memory.usage_bytes));
  setText("metric-memory-limit", metrics.memory.limit_bytes ? `of ${formatBytes(metrics.memory.limit_bytes)}` : "");
  setText("metric-storage", formatBytes(metrics.storage.usage_bytes));
  setText("metric-storage-limit", metrics.storage.limit_bytes ? `of ${formatBytes(metrics.storage.limit_bytes)}` : "");
  setText("metric-processes", String(metrics.processes));
  setText("metric-uptime", `${metrics.uptime_minutes} min`);
  setMeter("meter-memory", metrics.memory.usage_percent);
  setMeter("meter-storage", metrics.storage.usage_percent);
}

function setMeter(id, percent) {
  const meter = document.getElementById(id);
  if (meter) meter.value = percent ?? 0;
}

/** Status every 2 s while starting, status and metrics every 3 s while running, else idle. */
async function poll() {
  clearTimeout(pollTimer);
  try {
    await load();
    if (environment.status === "running") await loadMetrics();
    notify(notice, "");
  } catch (error) {
    if (error.status === 404) {
      notify(notice, "This environment no longer exists.");
      terminal.pause("Environment deleted");
      return;
    }
    // A stop between the two calls answers 409 for metrics; the next round shows the new status.
    if (error.status !== 409) notify(notice, `Could not refresh: ${describeError(error)}`);
  }
  const status = environment?.status;
  // Starting takes well under a second; poll fast so the user is not left waiting on us.
  if (BUSY.has(status)) pollTimer = setTimeout(poll, 250);
  else if (status === "running") pollTimer = setTimeout(poll, 3000);
}

async function act(action) {
  if (action === "delete" && !window.confirm(`Delete the environment “${environment.name}”? Its files are removed.`)) {
    return;
  }
  actions.querySelectorAll("button").forEach((button) => (button.disabled = true));
  try {
    if (action === "delete") {
      terminal.pause("Environment deleted");
      root.dataset.deleted = "true";
      await api(`/api/v1/environments/${environmentId}`, { method: "DELETE" });
      location.assign("/environments");
      return;
    }
    if (action === "stop" || action === "restart") terminal.pause("Stopping…");
    await api(`/api/v1/environments/${environmentId}/${action}`, { method: "POST" });
    notify(notice, "");
  } catch (error) {
    notify(notice, `${LABELS[action]} failed: ${describeError(error)}`);
  }
  environment = null; // force statusChanged() on the next load
  await poll();
}

// --- Logs -------------------------------------------------------------------------------------

function addLog(entry) {
  const key = `${entry.timestamp}|${entry.source}|${entry.message}`;
  if (seenLogs.has(key)) return;
  seenLogs.add(key);
  document.getElementById("logs-empty")?.remove();
  const level = (entry.level || "info").toLowerCase();
  logList.append(
    h(
      "li",
      { className: `log log-${level}` },
      h("time", { dateTime: entry.timestamp }, formatTime(entry.timestamp)),
      h("span", { className: "log-source" }, entry.source || ""),
      h("span", { className: "log-message" }, entry.message),
    ),
  );
  while (logList.children.length > MAX_LOG_LINES) logList.firstElementChild.remove();
  const box = logList.parentElement;
  if (box.scrollHeight - box.scrollTop - box.clientHeight < 80) box.scrollTop = box.scrollHeight;
}

async function loadLogs() {
  try {
    const response = await api(`/api/v1/environments/${environmentId}/logs?lines=200`);
    response.logs.forEach(addLog);
  } catch (error) {
    notify(notice, `Could not load the logs: ${describeError(error)}`);
  }
}

function followLogs(attempt = 0) {
  const socket = new WebSocket(socketUrl(`/api/v1/ws/logs/${environmentId}`));
  socket.addEventListener("open", () => {
    attempt = 0;
    logList.dataset.live = "true";
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "log" || message.type === "installation_log") addLog(message);
    else if (message.type === "installation_error" && !message.replay) addLog({ ...message, level: "error", source: "installation" });
    else if (message.type === "installation_status" && !message.replay) poll();
  });
  socket.addEventListener("close", (event) => {
    delete logList.dataset.live;
    if ([4401, 4404].includes(event.code) || attempt >= 6 || root.dataset.deleted) return;
    setTimeout(() => followLogs(attempt + 1), 1000 * 2 ** attempt);
  });
}

await poll();
if (environment) {
  await loadLogs();
  followLogs();
}
