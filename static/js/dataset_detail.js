// The /datasets/<id> page: summary, the column profile table, versions, and uploading a new version.

import { api, describeError, formatBytes, formatTime, h, notify } from "./api.js";
import { progressReporter, uploadDataset } from "./datasets_upload.js";

const root = document.getElementById("dataset");
const datasetId = root.dataset.datasetId;
const notice = document.getElementById("dataset-notice");
const profileRows = document.getElementById("profile-rows");
const profileEmpty = document.getElementById("profile-empty");
const versionRows = document.getElementById("version-rows");
const statusBadge = document.getElementById("dataset-status");
const progress = progressReporter();
const POLL_MS = 1000;
let pollTimer = null;

function number(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, "");
}

function topValues(values) {
  return values.map((item) => `${item.value === null ? "∅" : item.value} (${item.count})`).join(", ");
}

function profileRow(column) {
  return h(
    "tr",
    { dataset: { column: column.name, role: column.role } },
    h("th", { scope: "row" }, column.name),
    h("td", {}, column.dtype),
    h("td", {}, h("span", { className: "tag" }, column.role)),
    h("td", {}, String(column.missing_count)),
    h("td", {}, String(column.unique_count)),
    h("td", {}, number(column.min)),
    h("td", {}, number(column.max)),
    h("td", {}, number(column.mean)),
    h("td", {}, number(column.std)),
    h("td", { className: "muted" }, topValues(column.top_values)),
  );
}

function versionRow(version) {
  const status = h("span", { className: `status status-${version.status}` }, version.status);
  return h(
    "tr",
    { dataset: { version: String(version.version_number), status: version.status } },
    h("td", {}, `v${version.version_number}`),
    h("td", {}, version.version_label || "–"),
    h("td", {}, version.original_filename),
    h("td", {}, version.row_count ?? "–"),
    h("td", {}, formatBytes(version.raw_size_bytes)),
    h("td", {}, status, version.error_message ? h("div", { className: "status-reason" }, version.error_message) : null),
    h("td", {}, h("time", { dateTime: version.created_at }, formatTime(version.created_at))),
  );
}

function render(dataset) {
  document.getElementById("dataset-name").textContent = dataset.name;
  document.getElementById("dataset-description").textContent = dataset.description;
  statusBadge.textContent = dataset.status;
  statusBadge.className = `status status-${dataset.status}`;
  statusBadge.dataset.status = dataset.status;
  document.getElementById("info-problem").textContent = dataset.problem_type || "–";
  document.getElementById("info-target").textContent = dataset.target_column || "–";
  document.getElementById("info-rows").textContent = dataset.row_count ?? "–";
  document.getElementById("info-columns").textContent = dataset.column_count ?? "–";
  document.getElementById("info-size").textContent = dataset.file_size_bytes ? formatBytes(dataset.file_size_bytes) : "–";
  const current = dataset.versions.find((version) => version.id === dataset.current_version_id);
  document.getElementById("info-version").textContent = current ? `v${current.version_number}` : "–";
  profileRows.replaceChildren(...dataset.columns_metadata.map(profileRow));
  profileEmpty.hidden = dataset.columns_metadata.length > 0;
  versionRows.replaceChildren(...dataset.versions.map(versionRow));
}

async function refresh() {
  clearTimeout(pollTimer);
  try {
    const dataset = await api(`/api/datasets/${datasetId}`);
    render(dataset);
    notify(notice, "");
    if (dataset.status === "pending" || dataset.status === "processing") pollTimer = setTimeout(refresh, POLL_MS);
  } catch (error) {
    notify(notice, `Could not load the dataset: ${describeError(error)}`);
  }
  root.dataset.loaded = "true";
}

document.getElementById("dataset-delete").addEventListener("click", async () => {
  const name = document.getElementById("dataset-name").textContent;
  if (!window.confirm(`Delete “${name}” and all its versions? This cannot be undone.`)) return;
  try {
    await api(`/api/datasets/${datasetId}`, { method: "DELETE" });
    location.assign("/datasets");
  } catch (error) {
    notify(notice, `Delete failed: ${describeError(error)}`);
  }
});

document.getElementById("version-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const file = document.getElementById("version-file").files[0];
  if (!file) return;
  const uploadNotice = document.getElementById("upload-notice");
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  notify(uploadNotice, "");
  progress.show();
  progress.status("processing");
  try {
    const fields = {
      create_new_version: true,
      dataset_id: Number(datasetId),
      version_label: document.getElementById("version-label").value.trim(),
    };
    const { job } = await uploadDataset(file, fields, progress);
    progress.status(job.status);
    if (job.status === "failed") notify(uploadNotice, `Processing failed: ${job.error_message}`);
    form.reset();
  } catch (error) {
    progress.status("failed");
    notify(uploadNotice, describeError(error));
  } finally {
    submit.disabled = false;
  }
  await refresh();
});

await refresh();
