// The one-click deploy pipeline in the browser: the multipart upload that starts it, a watcher that
// follows its steps (its WebSocket when it opens, else polling the status every second), and a
// follower for the build's live log. Shared by /notebooks; no DOM of its own beyond what it is given.

import { ApiError, api, errorMessage, socketUrl } from "./api.js";

export const STEPS = ["parse", "dependencies", "upload", "build", "deploy"];
export const STEP_LABELS = {
  parse: "Parse",
  dependencies: "Dependencies",
  upload: "Upload",
  build: "Build",
  deploy: "Deploy",
};
const TERMINAL = new Set(["deployed", "failed"]);
// Close codes after which retrying the socket cannot help: unauthenticated, forbidden, not found.
const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404]);
const POLL_MS = 1000;
// With the socket open, an occasional status read still guards against a missed message.
const SAFETY_POLL_MS = 5000;

function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : "";
}

/**
 * POST a FormData body (multipart) with the cookie and CSRF token; returns the decoded JSON.
 * api.js sends JSON only, and a file needs multipart.
 */
export async function postForm(path, formData) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") },
      body: formData,
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("Hangar could not be reached. Check your connection.", { code: "NETWORK" });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401) location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
  if (!response.ok) {
    throw new ApiError(errorMessage(data, response), { status: response.status, code: data?.error_code || "", body: data });
  }
  return data;
}

/** Each step's state for a status answer: "done", "active", "failed" or "pending". */
export function stepStates(status) {
  const completed = new Set(status?.steps_completed ?? []);
  return Object.fromEntries(
    STEPS.map((step) => {
      if (completed.has(step)) return [step, "done"];
      if (step === status?.current_step && status?.status === "failed") return [step, "failed"];
      if (step === status?.current_step && status?.status === "processing") return [step, "active"];
      return [step, "pending"];
    }),
  );
}

/** The step a failed pipeline stopped at (its current step, else the first one not completed). */
export function failedStep(status) {
  const completed = new Set(status?.steps_completed ?? []);
  if (status?.current_step && !completed.has(status.current_step)) return status.current_step;
  return STEPS.find((step) => !completed.has(step)) ?? status?.current_step ?? "";
}

/** True when a socket message carries the pipeline's status itself rather than a bare nudge. */
function isSnapshot(message) {
  return message && typeof message === "object" && ("steps_completed" in message || "current_step" in message);
}

/**
 * Follows one pipeline until it is deployed or failed, calling `onStatus(status)` for every change.
 * Prefers /api/v1/ws/pipelines/{id}; without it (or after it drops for good) polls every second.
 */
export class PipelineWatcher {
  constructor(pipelineId, { onStatus, onError }) {
    this.pipelineId = pipelineId;
    this.onStatus = onStatus;
    this.onError = onError ?? (() => {});
    this.status = null;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    this.socketAttempts = 0;
  }

  start() {
    this.openSocket();
    this.refresh();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }

  get live() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  openSocket() {
    if (this.stopped || !("WebSocket" in window)) return;
    const socket = new WebSocket(socketUrl(`/api/v1/ws/pipelines/${encodeURIComponent(this.pipelineId)}`));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.socketAttempts = 0;
      // Anything that happened before the socket subscribed is read once now.
      this.refresh();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      const body = message?.data && isSnapshot(message.data) ? message.data : message;
      if (isSnapshot(body)) this.apply({ ...(this.status ?? {}), ...body });
      else this.refresh();
    });
    socket.addEventListener("close", (event) => {
      if (this.stopped || this.done) return;
      this.socketAttempts += 1;
      // Polling carries on meanwhile (refresh() polls fast while no socket is open).
      if (!FINAL_CLOSE_CODES.has(event.code) && this.socketAttempts < 4) {
        setTimeout(() => this.openSocket(), 1000 * 2 ** this.socketAttempts);
      }
      this.schedule();
    });
  }

  get done() {
    return TERMINAL.has(this.status?.status);
  }

  apply(status) {
    const before = JSON.stringify(this.status);
    this.status = status;
    if (JSON.stringify(status) !== before) this.onStatus(status);
    if (this.done) this.stop();
  }

  async refresh() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    try {
      this.apply(await api(`/api/v1/pipeline/status/${encodeURIComponent(this.pipelineId)}`));
    } catch (error) {
      if (error.status === 404) {
        this.onError(error);
        this.stop();
        return;
      }
      this.onError(error);
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.stopped || this.done) return;
    this.timer = setTimeout(() => this.refresh(), this.live ? SAFETY_POLL_MS : POLL_MS);
  }
}

/**
 * Follows a build's log: /api/v1/ws/builds/{id}/logs replays the lines so far, then sends each new
 * line (numbered `n`, so a reconnect's replay adds nothing twice) and a final `complete` message.
 * Without a socket it reads /api/v1/builds/{id}/logs?offset= every second until `complete`.
 * `onLines(lines)` receives new lines in order; `onState(state)` "connecting", "live", "polling", "ended".
 */
export class BuildLogFollower {
  constructor(buildId, { onLines, onState }) {
    this.buildId = buildId;
    this.onLines = onLines;
    this.onState = onState ?? (() => {});
    this.next = 0; // the number of the next line not shown yet
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    this.attempts = 0;
  }

  start() {
    if ("WebSocket" in window) this.connect();
    else this.poll();
  }

  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(socketUrl(`/api/v1/ws/builds/${encodeURIComponent(this.buildId)}/logs`));
    this.socket = socket;
    this.onState("connecting");
    socket.addEventListener("open", () => {
      this.attempts = 0;
      this.onState("live");
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message?.type === "log") this.add(Number(message.n), [message.line ?? ""]);
      else if (message?.type === "complete") this.end();
    });
    socket.addEventListener("close", (event) => {
      if (this.stopped) return;
      this.attempts += 1;
      if (FINAL_CLOSE_CODES.has(event.code) || this.attempts >= 3) this.poll();
      else setTimeout(() => this.connect(), 1000 * this.attempts);
    });
  }

  add(first, lines) {
    // Lines already shown (a replay after a reconnect) are skipped by their number.
    const fresh = Number.isFinite(first) ? lines.slice(Math.max(0, this.next - first)) : lines;
    if (Number.isFinite(first)) this.next = Math.max(this.next, first + lines.length);
    if (fresh.length) this.onLines(fresh);
  }

  end() {
    this.onState("ended");
    this.stop();
  }

  /** Read the lines after the last one shown from the endpoint (no socket could be had). */
  async poll() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.onState("polling");
    try {
      const body = await api(`/api/v1/builds/${encodeURIComponent(this.buildId)}/logs?offset=${this.next}`);
      this.add(body.offset ?? this.next, body.lines ?? []);
      if (body.complete) {
        this.end();
        return;
      }
    } catch {
      // The next round tries again; the pipeline's own status still reports a failed build.
    }
    this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }
}
