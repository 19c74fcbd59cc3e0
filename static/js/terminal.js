// xterm.js terminals over Hangar's WebSockets, with resize and reconnect-with-backoff.
//
// Two protocols share one connection class:
// - environments: /api/v1/ws/terminal/<id>  ({type: "input"|"resize"} in, {type: "output"} out);
// - code sessions: /ws                      (terminal_input / terminal_output, with sessionId).
// xterm.js and its fit addon are loaded as classic scripts (window.Terminal, window.FitAddon).

import { socketUrl } from "./api.js";

const MAX_BACKOFF_MS = 10_000;
const PING_INTERVAL_MS = 25_000;
// Close codes after which reconnecting cannot help: not signed in, not found, forbidden, bad request.
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4404]);
const CLEAR_LINE = "\r\x1b[2K";

/** An xterm.js Terminal, fitted to `container` and refitted whenever the container resizes. */
export function createTerminal(container) {
  const term = new window.Terminal({
    cursorBlink: true,
    convertEol: false,
    fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace',
    fontSize: 14,
    scrollback: 5000,
    theme: { background: "#10151d", foreground: "#e6edf3", cursor: "#e6edf3" },
  });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(container);
  const refit = () => {
    if (container.offsetWidth > 0 && container.offsetHeight > 0) fit.fit();
  };
  refit();
  new ResizeObserver(refit).observe(container);
  window.addEventListener("resize", refit);
  // Tests (and the curious) read the buffer through this handle.
  window.hangarTerminal = term;
  return term;
}

/** The text of the terminal's whole buffer, one line per row. */
export function terminalText(term) {
  const buffer = term.buffer.active;
  const lines = [];
  for (let row = 0; row < buffer.length; row += 1) lines.push(buffer.getLine(row)?.translateToString(true) ?? "");
  return lines.join("\n");
}

/**
 * Keeps `term` connected through `protocol` ({url, input, resize, onOpen, handle}); on a drop it
 * shows "Reconnecting…" and retries with exponential backoff, asking `canConnect()` first.
 * `onStatus(state, text)` reports "connecting", "connected", "reconnecting", "paused" or "closed".
 */
export class TerminalConnection {
  constructor(term, protocol, { onStatus = () => {}, canConnect = async () => true } = {}) {
    this.term = term;
    this.protocol = protocol;
    this.onStatus = onStatus;
    this.canConnect = canConnect;
    this.socket = null;
    this.attempt = 0;
    this.everConnected = false;
    this.stopped = false;
    this.timer = null;
    this.pinger = null;
    window.hangarTerminalConnection = this; // for tests, next to window.hangarTerminal
    term.onData((data) => this.send(protocol.input(data)));
    term.onResize(({ cols, rows }) => this.send(protocol.resize(cols, rows)));
  }

  /** Connect now (also resumes after a pause). */
  connect() {
    clearTimeout(this.timer);
    this.stopped = false;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    this.onStatus(this.everConnected ? "reconnecting" : "connecting", this.everConnected ? "Reconnecting…" : "Connecting…");
    const socket = new WebSocket(this.protocol.url(this.term.cols, this.term.rows));
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.everConnected) this.term.reset(); // the server replays recent output on reattach
      this.everConnected = true;
      this.attempt = 0;
      this.onStatus("connected", "Connected");
      for (const message of this.protocol.onOpen(this.term.cols, this.term.rows)) this.send(message);
      this.pinger = setInterval(() => this.send({ type: "ping" }), PING_INTERVAL_MS);
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.protocol.handle(message, this);
    });
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  closed(socket, event) {
    clearInterval(this.pinger);
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(event.code)) {
      this.stopped = true;
      this.onStatus("closed", event.code === 4401 ? "Signed out — reload the page to sign in again" : "Terminal closed");
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    const delay = Math.min(500 * 2 ** this.attempt, MAX_BACKOFF_MS);
    this.attempt += 1;
    this.onStatus("reconnecting", "Reconnecting…");
    this.timer = setTimeout(async () => {
      if (this.stopped) return;
      let ready = false;
      try {
        ready = await this.canConnect();
      } catch {
        ready = false; // the server is unreachable: keep trying with backoff
        this.scheduleReconnect();
        return;
      }
      if (ready) this.connect();
      else this.pause("Not running — the terminal reconnects when the environment runs again");
    }, delay);
  }

  /** Stop reconnecting (e.g. the environment stopped); `connect()` resumes. */
  pause(text = "Disconnected") {
    this.stopped = true;
    clearTimeout(this.timer);
    this.onStatus("paused", text);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000);
    }
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Write a notice line (dimmed) into the terminal. */
  notice(text, colour = 90) {
    this.term.write(`\r\n\x1b[${colour}m${text}\x1b[0m\r\n`);
  }
}

/** 004's environment terminal protocol. */
export function environmentProtocol(environmentId) {
  const path = `/api/v1/ws/terminal/${encodeURIComponent(environmentId)}`;
  return {
    url: (cols, rows) => socketUrl(`${path}?cols=${cols}&rows=${rows}`),
    input: (data) => ({ type: "input", data }),
    resize: (cols, rows) => ({ type: "resize", cols, rows }),
    onOpen: () => [],
    handle(message, connection) {
      if (message.type === "output") connection.term.write(message.data);
      else if (message.type === "exit") connection.notice("[The shell exited; reconnecting starts a new one]");
      else if (message.type === "error") connection.notice(`Error: ${message.detail}`, 31);
    },
  };
}

/** 002's code-session terminal over /ws: progress lines overwrite each other until cleared. */
export function sessionProtocol(sessionId, { onReady = () => {} } = {}) {
  let progress = false;
  const clearProgress = (term) => {
    if (progress) term.write(CLEAR_LINE);
    progress = false;
  };
  return {
    url: () => socketUrl("/ws"),
    input: (data) => ({ type: "terminal_input", sessionId, input: data }),
    resize: (cols, rows) => ({ type: "terminal_resize", sessionId, cols, rows }),
    // Remember the size, then an empty input starts the sandbox (or reattaches to its shell).
    onOpen: (cols, rows) => [
      { type: "terminal_resize", sessionId, cols, rows },
      { type: "terminal_input", sessionId, input: "" },
    ],
    handle(message, connection) {
      if (message.sessionId && message.sessionId !== sessionId) return;
      const { term } = connection;
      if (message.type === "terminal_output") {
        const output = String(message.output ?? "");
        if (output.startsWith("⏳")) {
          term.write(`${CLEAR_LINE}\x1b[33m${output}\x1b[0m`);
          progress = true;
          connection.onStatus("starting", output.replace("⏳", "").trim());
        } else {
          clearProgress(term);
          term.write(output);
        }
      } else if (message.type === "terminal_clear_progress") {
        clearProgress(term);
      } else if (message.type === "pod_ready") {
        connection.onStatus("connected", "Ready");
        onReady();
      } else if (message.type === "error") {
        clearProgress(term);
        connection.notice(`Error: ${message.detail || message.message}`, 31);
      }
    },
  };
}

/** Reflect a connection state on a status badge element. */
export function showStatus(element, state, text) {
  if (!element) return;
  element.textContent = text;
  element.dataset.state = state;
}
