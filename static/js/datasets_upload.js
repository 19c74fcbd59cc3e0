// The dataset upload flow shared by the datasets pages: ask for a signed URL, PUT the file to it
// (XMLHttpRequest, for real upload progress), confirm, then poll the ingestion job to its end.
// Progress: the upload fills 0-50 % of the bar, the job's progress_percentage the rest.

import { ApiError, api, errorMessage } from "./api.js";

const POLL_MS = 500;
const DONE = new Set(["completed", "failed"]);

function put(url, file, onFraction) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onFraction(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      reject(new ApiError(errorMessage(body, xhr), { status: xhr.status, code: body?.error_code || "", body }));
    });
    xhr.addEventListener("error", () => reject(new ApiError("The upload was interrupted.", { code: "NETWORK" })));
    xhr.send(file);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Upload `file` and wait for its ingestion. `fields` are confirm's (dataset_name, problem_type...).
 * `onStage(text)` and `onProgress(percent)` report as it goes. Resolves to {confirmed, job}.
 */
export async function uploadDataset(file, fields, { onStage = () => {}, onProgress = () => {} } = {}) {
  onStage("Preparing the upload…");
  onProgress(0);
  const target = await api("/api/datasets/upload-url", {
    method: "POST",
    body: { filename: file.name, size_bytes: file.size },
  });
  onStage(`Uploading ${file.name}…`);
  await put(target.upload_url, file, (fraction) => onProgress(Math.round(fraction * 50)));
  onStage("Confirming…");
  const confirmed = await api("/api/datasets/confirm", {
    method: "POST",
    body: { upload_id: target.upload_id, ...fields },
  });
  let job;
  for (;;) {
    job = await api(`/api/datasets/jobs/${confirmed.job_id}`);
    onProgress(50 + Math.round(job.progress_percentage / 2));
    onStage(job.status === "pending" ? "Queued for processing…" : `Processing: ${job.progress_percentage} %`);
    if (DONE.has(job.status)) break;
    await sleep(POLL_MS);
  }
  onStage(job.status === "completed" ? "Done." : `Processing failed: ${job.error_message}`);
  return { confirmed, job };
}

/** Wire a progress block (#upload-progress-block, #upload-stage, #upload-progress[-fill]). */
export function progressReporter(root = document) {
  const block = root.getElementById("upload-progress-block");
  const stage = root.getElementById("upload-stage");
  const bar = root.getElementById("upload-progress");
  const fill = root.getElementById("upload-progress-fill");
  return {
    show() {
      block.hidden = false;
    },
    onStage(text) {
      stage.textContent = text;
    },
    onProgress(percent) {
      bar.setAttribute("aria-valuenow", String(percent));
      fill.style.width = `${percent}%`;
    },
    status(value) {
      bar.dataset.status = value === "completed" ? "deployed" : value;
    },
  };
}
