// A small fetch helper for Hangar's JSON API, plus the DOM and formatting helpers the pages share.
// The HttpOnly JWT cookie authenticates every call; unsafe methods add Django's CSRF token.

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** An API call that did not succeed: `message` is readable, `code` is the API's error_code. */
export class ApiError extends Error {
  constructor(message, { status = 0, code = "", body = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : "";
}

/** Field errors ({"name": ["..."]}) as "name: ..." sentences. */
function fieldErrors(errors) {
  if (!errors || typeof errors !== "object") return "";
  return Object.entries(errors)
    .map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`)
    .join("; ");
}

/** The readable message of an error body: detail (with field errors), else the status text. */
export function errorMessage(body, response) {
  const detail = body?.detail || body?.message || body?.error || "";
  const fields = fieldErrors(body?.errors);
  const text = [detail, fields].filter(Boolean).join(" — ");
  return text || `${response?.status ?? ""} ${response?.statusText ?? "Request failed"}`.trim();
}

/**
 * Call the API and return the decoded JSON (null for an empty body).
 * Throws ApiError for a non-2xx answer or a network failure.
 */
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) headers["X-CSRFToken"] = cookie("csrftoken");
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("Hangar could not be reached. Check your connection.", { code: "NETWORK" });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401) {
    // The session ended (signed out elsewhere, or the refresh token expired): sign in again.
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
  }
  if (!response.ok) {
    throw new ApiError(errorMessage(data, response), {
      status: response.status,
      code: data?.error_code || "",
      body: data,
    });
  }
  return data;
}

/** The ws:// or wss:// URL of a socket path on this host (the cookie authenticates it). */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

/** `h("button", {className: "button", onclick}, "Start")`: an element with properties and children. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key in element) element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** Show `message` in a `.notice` element (or hide it when empty); `kind` is "error" or "info". */
export function notify(element, message, kind = "error") {
  if (!element) return;
  element.textContent = message || "";
  element.hidden = !message;
  element.className = `notice notice-${kind}`;
  element.setAttribute("role", kind === "error" ? "alert" : "status");
}

/** The message and the error code, e.g. "Image 'x' is not available (IMAGE_UNAVAILABLE)". */
export function describeError(error) {
  if (error instanceof ApiError && error.code && !error.message.includes(error.code)) {
    return `${error.message} (${error.code})`;
  }
  return error?.message || String(error);
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 -> "1.5 KB". */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || Number.isNaN(Number(bytes))) return "–";
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${UNITS[unit]}`;
}

/** An ISO timestamp as "YYYY-MM-DD HH:MM" in the reader's time zone. */
export function formatTime(iso) {
  const when = new Date(iso);
  if (!iso || Number.isNaN(when.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
}
