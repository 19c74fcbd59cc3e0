// The /jobs/<id> page: the job's nodes update live over /api/workflows/<id>/stream (node status,
// progress, log lines); when it finishes, the leaderboard, metrics, plots (owner-only PNGs, sent
// with the cookie) and model downloads appear. Cancel and Retry call the API. If the socket drops
// before the end, the page falls back to polling the job.

import { api, describeError, h, notify, socketUrl } from "./api.js";

const root = document.getElementById("job");
const jobId = root.dataset.jobId;
const statusBadge = document.getElementById("job-status");
const title = document.getElementById("job-title");
const progressFill = document.getElementById("job-progress-fill");
const progressText = document.getElementById("job-progress-text");
const costText = document.getElementById("job-cost");
const streamState = document.getElementById("stream-state");
const nodeList = document.getElementById("nodes");
const errorBox = document.getElementById("job-error");
const pageNotice = document.getElementById("job-notice");
const cancelButton = document.getElementById("cancel-job");
const retryButton = document.getElementById("retry-job");
const resultsCard = document.getElementById("results");
const leaderboard = document.getElementById("leaderboard");
const plots = document.getElementById("plots");

const ACTIVE = new Set(["pending", "queued", "running"]);
const POLL_MS = 2000;
let nodes = [];
let finished = false;

function setStatus(status) {
  statusBadge.textContent = status;
  statusBadge.className = `status status-${status}`;
  statusBadge.dataset.status = status;
  root.dataset.status = status;
  cancelButton.hidden = !ACTIVE.has(status);
  retryButton.hidden = status !== "failed";
}

function setProgress(progress) {
  progressFill.style.width = `${progress}%`;
  progressText.textContent = `${progress}%`;
}

function nodeDetail(node) {
  const summary = node.summary || {};
  if (summary.metrics) {
    return Object.entries(summary.metrics)
      .map(([metric, value]) => `${metric} ${value === null ? "n/a" : Number(value).toFixed(4)}`)
      .join(" · ");
  }
  if (summary.rows !== undefined) return `${summary.rows} rows, ${summary.feature_columns} feature columns`;
  if (summary.applies_to) return `${summary.applies_to} columns (${summary.columns})`;
  const last = (node.logs || []).at(-1);
  return last || "";
}

function renderNodes() {
  nodeList.replaceChildren(
    ...nodes.map((node) =>
      h(
        "li",
        { className: "node-row", dataset: { nodeId: node.id, status: node.status } },
        h("span", { className: `status status-${node.status}` }, node.status),
        h(
          "span",
          {},
          h("strong", {}, node.plugin || node.type),
          " ",
          h("span", { className: "muted small" }, node.id),
          h("div", { className: "node-detail" }, nodeDetail(node)),
          node.error ? h("div", { className: "node-error" }, node.error) : null,
        ),
        h("span", { className: "muted small" }, node.type),
      ),
    ),
  );
}

function format(value) {
  return value === null || value === undefined ? "n/a" : Number(value).toFixed(4);
}

function renderResults(results) {
  if (!results || !results.models) return;
  const metrics = results.metrics || [];
  const byNode = new Map(results.models.map((entry) => [entry.node_id, entry]));
  leaderboard.replaceChildren(
    h(
      "thead",
      {},
      h("tr", {}, h("th", {}, "#"), h("th", {}, "Model"), ...metrics.map((m) => h("th", {}, m)), h("th", {}, "CV"), h("th", {}, "")),
    ),
    h(
      "tbody",
      {},
      ...results.leaderboard.map((row) => {
        const entry = byNode.get(row.node_id) || {};
        const primary = results.primary_metric;
        const cv = entry.cv_metrics?.[primary];
        return h(
          "tr",
          { dataset: { nodeId: row.node_id } },
          h("td", {}, String(row.rank)),
          h("td", {}, h("strong", {}, row.name), " ", h("span", { className: "muted small" }, row.node_id)),
          ...metrics.map((metric) =>
            h("td", { className: "metric-value", dataset: { metric } }, format(row.metrics?.[metric])),
          ),
          h("td", { className: "metric-value" }, cv ? `${format(cv.mean)} ± ${format(cv.std)}` : "–"),
          h(
            "td",
            {},
            entry.download_url ? h("a", { href: entry.download_url, className: "button button-small button-quiet", download: "" }, "Download model") : null,
          ),
        );
      }),
    ),
  );
  plots.replaceChildren(
    ...results.models.flatMap((entry) =>
      (entry.plots || []).map((plot) =>
        h(
          "figure",
          { dataset: { plot: plot.plot, nodeId: entry.node_id } },
          h("img", { src: plot.url, alt: `${plot.title} of ${entry.name}`, loading: "lazy" }),
          h("figcaption", {}, `${plot.title} · ${entry.name} (${entry.node_id})`),
        ),
      ),
    ),
  );
  resultsCard.hidden = false;
}

function applyJob(job) {
  nodes = job.nodes || nodes;
  if (job.workflow_name) title.textContent = job.workflow_name;
  setStatus(job.status);
  setProgress(job.progress ?? 0);
  if (job.estimated_cost !== undefined) {
    const charged = job.credits_charged === null || job.credits_charged === undefined ? "" : `, charged ${job.credits_charged}`;
    costText.textContent = `estimated ${job.estimated_cost} credits${charged}`;
  }
  errorBox.textContent = job.error_message || "";
  errorBox.hidden = !job.error_message;
  renderNodes();
  if (job.status === "completed") renderResults(job.results);
  if (!ACTIVE.has(job.status)) finish();
}

function finish() {
  if (finished) return;
  finished = true;
  streamState.textContent = "finished";
  streamState.dataset.state = "closed";
  // The final object (credits charged, timings) comes from the job itself.
  api(`/api/jobs/${jobId}`).then(applyJobQuietly).catch(() => {});
}

function applyJobQuietly(job) {
  nodes = job.nodes || nodes;
  setStatus(job.status);
  setProgress(job.progress ?? 0);
  const charged = job.credits_charged === null ? "" : `, charged ${job.credits_charged}`;
  costText.textContent = `estimated ${job.estimated_cost} credits${charged}`;
  errorBox.textContent = job.error_message || "";
  errorBox.hidden = !job.error_message;
  renderNodes();
  if (job.status === "completed") renderResults(job.results);
}

function onMessage(message) {
  if (message.type === "node_status") {
    const node = nodes.find((n) => n.id === message.node_id);
    if (node) Object.assign(node, { status: message.status, summary: message.summary || node.summary });
    renderNodes();
  } else if (message.type === "progress") {
    setProgress(message.progress);
  } else if (message.type === "log") {
    const node = nodes.find((n) => n.id === message.node_id);
    if (node) node.logs = [...(node.logs || []), message.message];
    renderNodes();
  } else if (message.type === "job_status" || message.type === "job_finished") {
    applyJob(message);
  }
}

async function poll() {
  if (finished) return;
  try {
    applyJob(await api(`/api/jobs/${jobId}`));
  } catch (error) {
    notify(pageNotice, describeError(error));
  }
  if (!finished) setTimeout(poll, POLL_MS);
}

function connect() {
  const socket = new WebSocket(socketUrl(`/api/workflows/${jobId}/stream`));
  socket.addEventListener("open", () => {
    streamState.textContent = "live";
    streamState.dataset.state = "connected";
  });
  socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
  socket.addEventListener("close", () => {
    if (!finished) {
      streamState.textContent = "reconnecting (polling)";
      streamState.dataset.state = "reconnecting";
      setTimeout(poll, POLL_MS);
    }
  });
}

cancelButton.addEventListener("click", async () => {
  cancelButton.disabled = true;
  try {
    applyJob(await api(`/api/jobs/${jobId}/cancel`, { method: "POST" }));
  } catch (error) {
    notify(pageNotice, describeError(error));
  } finally {
    cancelButton.disabled = false;
  }
});

retryButton.addEventListener("click", async () => {
  retryButton.disabled = true;
  try {
    const job = await api(`/api/jobs/${jobId}/retry`, { method: "POST" });
    location.assign(`/jobs/${job.job_id}`);
  } catch (error) {
    notify(pageNotice, describeError(error));
    retryButton.disabled = false;
  }
});

api(`/api/jobs/${jobId}`)
  .then((job) => {
    applyJob(job);
    if (!finished) connect();
  })
  .catch((error) => notify(pageNotice, describeError(error)));
