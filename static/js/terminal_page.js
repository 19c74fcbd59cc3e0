// /environments/<id>/terminal: the environment's terminal, full page.

import { api, describeError, notify } from "./api.js";
import { mountEnvironmentTerminal } from "./environment_terminal.js";

const root = document.getElementById("terminal-page");
const environmentId = root.dataset.environmentId;
const notice = document.getElementById("terminal-notice");
const badge = document.getElementById("environment-status");

async function status() {
  const environment = await api(`/api/v1/environments/${environmentId}`);
  badge.textContent = environment.status;
  badge.className = `status status-${environment.status}`;
  badge.dataset.status = environment.status;
  return environment.status;
}

const connection = mountEnvironmentTerminal({
  container: document.getElementById("terminal"),
  statusElement: document.getElementById("terminal-status"),
  environmentId,
  canConnect: async () => {
    const running = (await status()) === "running";
    if (!running) setTimeout(start, 2000); // resume once it runs again
    return running;
  },
});

// Wait (polling every 2 s) until the environment runs, then connect.
async function start() {
  try {
    const current = await status();
    if (current === "running") {
      notify(notice, "");
      connection.connect();
      window.hangarTerminal.focus();
      return;
    }
    const waiting = current === "creating" || current === "installing";
    notify(notice, waiting ? "The environment is starting…" : `The environment is ${current}. Start it from its page.`, "info");
  } catch (error) {
    notify(notice, describeError(error));
  }
  setTimeout(start, 2000);
}

start();
