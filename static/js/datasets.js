// The /datasets page: upload with a real progress bar (datasets_upload.js), and the paginated,
// searchable list of datasets with their ingestion status.

import { api, describeError, formatBytes, formatTime, h, notify } from "./api.js";
import { progressReporter, uploadDataset } from "./datasets_upload.js";

const PER_PAGE = 20;
const root = document.getElementById("datasets");
const rows = document.getElementById("dataset-rows");
const empty = document.getElementById("dataset-empty");
const listNotice = document.getElementById("datasets-notice");
const form = document.getElementById("upload-form");
const fileInput = document.getElementById("dataset-file");
const fileName = document.getElementById("dataset-file-name");
const uploadNotice = document.getElementById("upload-notice");
const search = document.getElementById("dataset-search");
const prev = document.getElementById("page-prev");
const next = document.getElementById("page-next");
const pageInfo = document.getElementById("page-info");
const progress = progressReporter();

let page = 1;
let searchTimer = null;

function statusBadge(status) {
  return h("span", { className: `status status-${status}`, dataset: { status } }, status);
}

function row(dataset) {
  return h(
    "tr",
    { dataset: { datasetId: String(dataset.id), status: dataset.status } },
    h("td", {}, h("a", { href: `/datasets/${dataset.id}`, className: "dataset-name" }, dataset.name)),
    h("td", {}, dataset.problem_type || "–"),
    h("td", {}, dataset.row_count ?? "–"),
    h("td", {}, dataset.column_count ?? "–"),
    h("td", {}, dataset.file_size_bytes ? formatBytes(dataset.file_size_bytes) : "–"),
    h("td", {}, String(dataset.versions.length)),
    h("td", {}, statusBadge(dataset.status)),
    h("td", {}, h("time", { dateTime: dataset.created_at }, formatTime(dataset.created_at))),
    h(
      "td",
      { className: "row-actions" },
      h(
        "button",
        { type: "button", className: "button button-small button-danger", onclick: () => remove(dataset) },
        "Delete",
      ),
    ),
  );
}

async function refresh() {
  const query = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
  if (search.value.trim()) query.set("search", search.value.trim());
  try {
    const body = await api(`/api/datasets?${query}`);
    rows.replaceChildren(...body.datasets.map(row));
    empty.hidden = body.total > 0;
    pageInfo.textContent = body.total ? `Page ${body.page} of ${body.total_pages} · ${body.total} datasets` : "";
    prev.disabled = body.page <= 1;
    next.disabled = body.page >= body.total_pages;
    notify(listNotice, "");
  } catch (error) {
    notify(listNotice, `Could not load your datasets: ${describeError(error)}`);
  }
  root.dataset.loaded = "true";
}

async function remove(dataset) {
  if (!window.confirm(`Delete “${dataset.name}” and all its versions? This cannot be undone.`)) return;
  try {
    await api(`/api/datasets/${dataset.id}`, { method: "DELETE" });
    notify(listNotice, `Deleted “${dataset.name}”.`, "info");
  } catch (error) {
    notify(listNotice, `Delete failed: ${describeError(error)}`);
  }
  await refresh();
}

fileInput.addEventListener("change", () => {
  const file = fileInput.files[0];
  fileName.textContent = file ? `${file.name} (${formatBytes(file.size)})` : "";
  if (file && !form.elements.dataset_name.value) form.elements.dataset_name.value = file.name.replace(/\.[^.]+$/, "");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = fileInput.files[0];
  if (!file) return;
  const submit = document.getElementById("upload-submit");
  submit.disabled = true;
  notify(uploadNotice, "");
  progress.show();
  progress.status("processing");
  const fields = {
    dataset_name: form.elements.dataset_name.value.trim(),
    problem_type: form.elements.problem_type.value,
    target_column: form.elements.target_column.value.trim(),
    description: form.elements.description.value.trim(),
  };
  try {
    const { confirmed, job } = await uploadDataset(file, fields, progress);
    progress.status(job.status);
    if (job.status === "completed") {
      notify(uploadNotice, `“${fields.dataset_name}” is ready.`, "info");
      form.reset();
      fileName.textContent = "";
    } else {
      notify(uploadNotice, `Processing failed: ${job.error_message}`);
    }
    uploadNotice.dataset.datasetId = String(confirmed.dataset_id);
  } catch (error) {
    progress.status("failed");
    notify(uploadNotice, describeError(error));
  } finally {
    submit.disabled = false;
  }
  page = 1;
  await refresh();
});

search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    page = 1;
    refresh();
  }, 250);
});
document.getElementById("dataset-filter").addEventListener("submit", (event) => event.preventDefault());
prev.addEventListener("click", () => {
  page -= 1;
  refresh();
});
next.addEventListener("click", () => {
  page += 1;
  refresh();
});

await refresh();
