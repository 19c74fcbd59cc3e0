// An environment's terminal: xterm.js over /api/v1/ws/terminal/<id>, shared by the detail page
// and the full-page terminal.

import { createTerminal, environmentProtocol, showStatus, TerminalConnection } from "./terminal.js";

/**
 * Mount a terminal in `container` for `environmentId`. It connects when `connect()` is called
 * (the pages call it once the environment runs), and before each reconnect asks `canConnect()`
 * whether the environment still runs. Returns the TerminalConnection.
 */
export function mountEnvironmentTerminal({ container, statusElement, environmentId, canConnect }) {
  const term = createTerminal(container);
  const connection = new TerminalConnection(term, environmentProtocol(environmentId), {
    canConnect,
    onStatus: (state, text) => {
      showStatus(statusElement, state, text);
      container.dataset.state = state;
    },
  });
  showStatus(statusElement, "paused", "Waiting for the environment…");
  return connection;
}
