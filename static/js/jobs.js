// The /jobs page: the caller's jobs (filtered by status) and their statistics; refreshed every
// 3 s while any job is active.

import { api, describeError, formatTime, h, notify } from "./api.js";

const rows = document.getElementById("job-rows");
const empty = document.getElementById("jobs-empty");
const pageNotice = document.getElementById("jobs-notice");
const filter = document.getElementById("status-filter");
const stats = document.getElementById("job-stats");

const ACTIVE = new Set(["pending", "queued", "running"]);
const POLL_MS = 3000;
let timer = null;

function row(job) {
  const credits = job.credits_charged === null ? `${job.estimated_cost} reserved` : `${job.credits_charged}`;
  return h(
    "tr",
    { dataset: { jobId: job.id, status: job.status } },
    h("td", {}, h("a", { href: `/jobs/${job.id}` }, job.workflow_name || "Untitled workflow")),
    h("td", {}, h("span", { className: `status status-${job.status}` }, job.status)),
    h("td", {}, `${job.progress}%`),
    h("td", {}, credits),
    h("td", {}, h("time", { dateTime: job.created_at }, formatTime(job.created_at))),
  );
}

function stat(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value));
}

async function refresh() {
  clearTimeout(timer);
  try {
    const query = filter.value ? `&status_filter=${filter.value}` : "";
    const [page, summary] = await Promise.all([api(`/api/jobs?page_size=50${query}`), api("/api/jobs/stats")]);
    rows.replaceChildren(...page.items.map(row));
    empty.hidden = page.items.length > 0;
    const rate = summary.success_rate === null ? "–" : `${Math.round(summary.success_rate * 100)}%`;
    const mean = summary.average_duration_seconds === null ? "–" : `${summary.average_duration_seconds.toFixed(1)} s`;
    stats.replaceChildren(
      stat("Jobs", String(summary.total_jobs)),
      stat("Running", String(summary.by_status.running + summary.by_status.queued)),
      stat("Success rate", rate),
      stat("Average duration", mean),
      stat("Credits spent", String(summary.total_credits_spent)),
    );
    notify(pageNotice, "");
    if (page.items.some((job) => ACTIVE.has(job.status))) timer = setTimeout(refresh, POLL_MS);
  } catch (error) {
    notify(pageNotice, `Could not load your jobs: ${describeError(error)}`);
  }
}

filter.addEventListener("change", refresh);
refresh();
