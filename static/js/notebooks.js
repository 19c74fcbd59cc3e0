// The /notebooks page: drop a notebook (or choose one), deploy it with the one-click pipeline,
// watch each step and the build log live, open the app; below, the pipeline history, page by page.
// A running pipeline's id is kept in the address (?pipeline=...), so a reload picks it up again.

import { api, describeError, formatTime, h, notify } from "./api.js";
import {
  BuildLogFollower,
  PipelineWatcher,
  STEP_LABELS,
  STEPS,
  failedStep,
  postForm,
  stepStates,
} from "./deploy_pipeline.js";

const HISTORY_PAGE = 10;
const MAX_LOG_LINES = 2000;
const STATE_TEXT = { pending: "waiting", active: "running…", done: "done", failed: "failed" };
const VERBS = { processing: "Deploying", deployed: "Deployed", failed: "Could not deploy" };

const form = document.getElementById("deploy-form");
const fileInput = document.getElementById("notebook-file");
const dropzone = document.getElementById("dropzone");
const selectedFile = document.getElementById("selected-file");
const deployButton = document.getElementById("deploy-button");
const deployNotice = document.getElementById("deploy-notice");

const card = document.getElementById("pipeline");
const progress = document.getElementById("pipeline-progress");
const progressFill = document.getElementById("pipeline-progress-fill");
const statusBadge = document.getElementById("pipeline-status");
const announce = document.getElementById("pipeline-announce");
const errorBox = document.getElementById("pipeline-error");
const doneBox = document.getElementById("pipeline-done");
const openApp = document.getElementById("open-app");
const logBox = document.getElementById("build-log-box");
const logPre = document.getElementById("build-log");
const logStatus = document.getElementById("build-log-status");

const historyRows = document.getElementById("history-rows");
const historyEmpty = document.getElementById("history-empty");
const historyNotice = document.getElementById("history-notice");
const historyRange = document.getElementById("history-range");
const historyPrev = document.getElementById("history-prev");
const historyNext = document.getElementById("history-next");

let watcher = null;
let logFollower = null;
let historySkip = 0;
let lastAnnounced = "";

// --- Choosing a file: input or drag and drop --------------------------------------------------

function chosenFile() {
  return fileInput.files?.[0] ?? null;
}

function showChosen() {
  const file = chosenFile();
  selectedFile.textContent = file ? `Selected: ${file.name}` : "";
  dropzone.classList.toggle("dropzone-has-file", Boolean(file));
  if (!file) return;
  const wrongType = !file.name.toLowerCase().endsWith(".ipynb");
  notify(deployNotice, wrongType ? `“${file.name}” is not a notebook: the file must end in .ipynb.` : "");
}

fileInput.addEventListener("change", showChosen);

// A file dropped beside the zone must not make the browser navigate away to show it.
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => {
    if (!dropzone.contains(event.target)) event.preventDefault();
  });
}

for (const type of ["dragenter", "dragover"]) {
  dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    dropzone.classList.add("dropzone-over");
  });
}
dropzone.addEventListener("dragleave", (event) => {
  if (!dropzone.contains(event.relatedTarget)) dropzone.classList.remove("dropzone-over");
});
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("dropzone-over");
  const files = event.dataTransfer?.files;
  if (!files?.length) return;
  if (files.length > 1) {
    notify(deployNotice, "Drop one notebook at a time.");
    return;
  }
  fileInput.files = files;
  showChosen();
});

/** A readable problem with the form, or "" when it can be sent. */
function formProblem() {
  const file = chosenFile();
  if (!file) return "Choose a notebook (.ipynb) to deploy.";
  if (!file.name.toLowerCase().endsWith(".ipynb")) return `“${file.name}” is not a notebook: the file must end in .ipynb.`;
  const min = Number(form.elements.min_instances.value);
  const max = Number(form.elements.max_instances.value);
  if (!Number.isInteger(min) || min < 0) return "Min instances must be a whole number, 0 or more.";
  if (!Number.isInteger(max) || max < 1) return "Max instances must be a whole number, 1 or more.";
  if (min > max) return "Min instances cannot be more than max instances.";
  return "";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = formProblem();
  if (problem) {
    notify(deployNotice, problem);
    return;
  }
  const file = chosenFile();
  const body = new FormData();
  body.append("file", file, file.name);
  for (const name of ["cpu", "memory", "min_instances", "max_instances"]) body.append(name, form.elements[name].value);
  deployButton.disabled = true;
  notify(deployNotice, `Uploading ${file.name}…`, "info");
  try {
    const started = await postForm("/api/v1/pipeline/deploy", body);
    notify(deployNotice, "");
    follow(started.pipeline_id, { notebookId: started.notebook_id, name: file.name });
    form.reset();
    showChosen();
    loadHistory(0);
  } catch (error) {
    notify(deployNotice, `Could not start the deployment: ${describeError(error)}`);
  } finally {
    deployButton.disabled = false;
  }
});

// --- The pipeline being watched -----------------------------------------------------------------

function say(text) {
  if (text && text !== lastAnnounced) {
    lastAnnounced = text;
    announce.textContent = text;
  }
}

function setLinks(notebookId) {
  if (!notebookId) return;
  document.getElementById("pipeline-links").hidden = false;
  document.getElementById("notebook-link").href = `/notebooks/${notebookId}`;
  const base = `/api/v1/notebooks/${notebookId}/download`;
  document.getElementById("download-main").href = `${base}/main.py`;
  document.getElementById("download-requirements").href = `${base}/requirements.txt`;
  document.getElementById("download-dockerfile").href = `${base}/Dockerfile`;
}

function resetPipelineCard(pipelineId, name) {
  card.hidden = false;
  card.dataset.pipelineId = pipelineId;
  card.dataset.status = "processing";
  document.getElementById("pipeline-id").textContent = pipelineId;
  document.getElementById("pipeline-notebook").textContent = name || pipelineId;
  card.dataset.named = name ? "true" : "false";
  document.getElementById("pipeline-links").hidden = true;
  errorBox.hidden = true;
  doneBox.hidden = true;
  logPre.replaceChildren(h("span", { className: "empty", id: "build-log-empty" }, "The log appears once the build starts."));
  logStatus.textContent = "";
  delete card.dataset.buildId;
  lastAnnounced = "";
  renderStatus({ pipeline_id: pipelineId, status: "processing", current_step: "parse", steps_completed: [] });
}

function renderSteps(status) {
  const states = stepStates(status);
  for (const step of STEPS) {
    const item = card.querySelector(`.step[data-step="${step}"]`);
    item.dataset.state = states[step];
    item.querySelector(".step-state").textContent = STATE_TEXT[states[step]];
    if (states[step] === "active") item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
  const done = STEPS.filter((step) => states[step] === "done").length;
  progress.setAttribute("aria-valuenow", String(done));
  progressFill.style.width = `${(done / STEPS.length) * 100}%`;
  return { states, done };
}

function renderStatus(status) {
  const { states, done } = renderSteps(status);
  const state = status.status || "processing";
  card.dataset.status = state;
  progress.dataset.status = state;
  statusBadge.textContent = state;
  statusBadge.className = `status status-${state}`;
  statusBadge.dataset.status = state;
  document.getElementById("pipeline-verb").textContent = VERBS[state] ?? "Deploying";
  setLinks(status.notebook_id ?? card.dataset.notebookId);
  if (card.dataset.named === "false" && status.notebook_id) nameFromNotebook(status.notebook_id);

  if (state === "failed") {
    const step = failedStep(status);
    const label = STEP_LABELS[step] ?? step;
    const message = `${label} step failed: ${status.error_message || "no reason was given"}`;
    errorBox.textContent = message;
    errorBox.dataset.step = step;
    errorBox.hidden = false;
    progress.setAttribute("aria-valuetext", `Failed at ${label}`);
    say(message);
  } else if (state === "deployed") {
    progress.setAttribute("aria-valuetext", "Deployed");
    if (status.service_url) {
      openApp.href = status.service_url;
      document.getElementById("service-url").textContent = absoluteUrl(status.service_url);
      doneBox.hidden = false;
    }
    say("Deployed. The app is ready to open.");
  } else {
    const active = STEPS.find((step) => states[step] === "active");
    const label = STEP_LABELS[active] ?? "Starting";
    progress.setAttribute("aria-valuetext", `${label}: ${done} of ${STEPS.length} steps done`);
    say(`${label}…`);
  }
  if (status.build_id && !card.dataset.buildId) followBuildLog(status.build_id);
  if (state !== "processing") {
    // The build's socket ends by itself with the build; this only guards against a lost message.
    const follower = logFollower;
    setTimeout(() => follower?.stop(), 10_000);
    loadHistory(historySkip);
  }
}

/** A pipeline picked up from the address has no file name yet: show its notebook's name. */
async function nameFromNotebook(notebookId) {
  const pipelineId = card.dataset.pipelineId;
  card.dataset.named = "pending";
  try {
    const notebook = await api(`/api/v1/notebooks/${notebookId}`);
    // Another pipeline may have been started meanwhile: name only the one this was for.
    if (card.dataset.pipelineId === pipelineId) {
      document.getElementById("pipeline-notebook").textContent = notebook.filename || notebook.name;
    }
  } catch {
    // Keep showing the pipeline id.
  }
  if (card.dataset.pipelineId === pipelineId) card.dataset.named = "true";
}

function absoluteUrl(url) {
  try {
    return new URL(url, location.href).href;
  } catch {
    return url;
  }
}

function follow(pipelineId, { notebookId, name } = {}) {
  watcher?.stop();
  logFollower?.stop();
  resetPipelineCard(pipelineId, name);
  if (notebookId) {
    card.dataset.notebookId = String(notebookId);
    setLinks(notebookId);
  }
  const url = new URL(location.href);
  url.searchParams.set("pipeline", pipelineId);
  history.replaceState(null, "", url);
  watcher = new PipelineWatcher(pipelineId, {
    onStatus: (status) => {
      notify(deployNotice, "");
      renderStatus(status);
    },
    onError: (error) => {
      if (error.status === 404) notify(deployNotice, `Pipeline ${pipelineId} was not found.`);
      else notify(deployNotice, `Could not read the pipeline's status: ${describeError(error)}`);
    },
  });
  watcher.start();
  card.scrollIntoView({ block: "nearest" });
}

// --- The build log ---------------------------------------------------------------------------------

const LOG_STATES = { connecting: "Connecting…", live: "Live", polling: "Refreshing", ended: "Finished" };

function appendLines(lines) {
  document.getElementById("build-log-empty")?.remove();
  const stick = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 40;
  logPre.append(...lines.map((line) => `${line}\n`));
  // Keep the newest lines (one text node each).
  while (logPre.childNodes.length > MAX_LOG_LINES) logPre.firstChild.remove();
  if (stick) logBox.scrollTop = logBox.scrollHeight;
}

function followBuildLog(buildId) {
  card.dataset.buildId = String(buildId);
  logFollower?.stop();
  logFollower = new BuildLogFollower(buildId, {
    onLines: appendLines,
    onState: (state) => {
      logStatus.textContent = LOG_STATES[state] ?? "";
      logStatus.dataset.state = state === "live" ? "connected" : state;
    },
  });
  logFollower.start();
}

// --- History -----------------------------------------------------------------------------------------

function badge(status) {
  return status ? h("span", { className: `status status-${status}`, dataset: { status } }, status) : "–";
}

function fileLinks(notebookId) {
  const base = `/api/v1/notebooks/${notebookId}/download`;
  return h(
    "span",
    { className: "file-links" },
    h("a", { href: `${base}/main.py`, download: "" }, "main.py"),
    h("a", { href: `${base}/requirements.txt`, download: "" }, "requirements.txt"),
    h("a", { href: `${base}/Dockerfile`, download: "" }, "Dockerfile"),
  );
}

function historyRow(item) {
  const status = item.status || item.deployment_status || item.notebook_status;
  const open =
    item.service_url && item.deployment_status === "deployed"
      ? h("a", { className: "button button-small", href: item.service_url, target: "_blank", rel: "noopener" }, "Open app")
      : null;
  const watch =
    item.pipeline_id && status === "processing"
      ? h("button", { type: "button", className: "button button-small button-quiet", onclick: () => follow(item.pipeline_id, { notebookId: item.notebook_id, name: item.notebook_name }) }, "Watch")
      : null;
  return h(
    "tr",
    { dataset: { notebookId: item.notebook_id, pipelineId: item.pipeline_id ?? "", status: status ?? "" } },
    h("td", {}, h("a", { href: `/notebooks/${item.notebook_id}`, className: "notebook-name" }, item.notebook_name || `Notebook ${item.notebook_id}`)),
    h("td", {}, badge(status)),
    h("td", {}, badge(item.build_status)),
    h("td", {}, badge(item.deployment_status)),
    h("td", {}, fileLinks(item.notebook_id)),
    h("td", {}, h("time", { dateTime: item.created_at }, formatTime(item.created_at))),
    h("td", { className: "row-actions" }, watch, open),
  );
}

async function loadHistory(skip = 0) {
  try {
    const page = await api(`/api/v1/pipeline/history?skip=${skip}&limit=${HISTORY_PAGE}`);
    const items = page.pipelines ?? [];
    const total = page.total ?? items.length;
    if (!items.length && skip > 0 && total > 0) {
      // The last page emptied (history changed): show the page before it.
      return loadHistory(Math.max(0, skip - HISTORY_PAGE));
    }
    historySkip = skip;
    historyRows.replaceChildren(...items.map(historyRow));
    historyEmpty.hidden = total > 0;
    historyRange.textContent = total ? `${skip + 1}–${skip + items.length} of ${total}` : "";
    historyPrev.disabled = skip === 0;
    historyNext.disabled = skip + items.length >= total;
    notify(historyNotice, "");
  } catch (error) {
    notify(historyNotice, `Could not load the pipeline history: ${describeError(error)}`);
  }
  document.getElementById("history").dataset.loaded = "true";
}

historyPrev.addEventListener("click", () => loadHistory(Math.max(0, historySkip - HISTORY_PAGE)));
historyNext.addEventListener("click", () => loadHistory(historySkip + HISTORY_PAGE));

const resume = new URLSearchParams(location.search).get("pipeline");
if (resume) follow(resume);
await loadHistory(0);
