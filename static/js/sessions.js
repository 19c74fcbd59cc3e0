// The /sessions page: the user's code sessions, and a form that creates one and opens it.

import { api, describeError, formatTime, h, notify } from "./api.js";

const list = document.getElementById("session-rows");
const empty = document.getElementById("session-empty");
const notice = document.getElementById("sessions-notice");
const form = document.getElementById("create-session");
const formNotice = document.getElementById("create-session-notice");

function row(session) {
  return h(
    "tr",
    { dataset: { sessionId: session.id } },
    h("td", {}, h("a", { href: `/sessions/${session.id}`, className: "session-name" }, session.name)),
    h("td", {}, session.language || ""),
    h("td", {}, h("time", { dateTime: session.created_at }, formatTime(session.created_at))),
    h("td", {}, h("time", { dateTime: session.updated_at }, formatTime(session.updated_at))),
  );
}

async function refresh() {
  try {
    const response = await api("/api/sessions/?limit=100");
    list.replaceChildren(...response.data.map(row));
    empty.hidden = response.data.length > 0;
  } catch (error) {
    notify(notice, `Could not load your sessions: ${describeError(error)}`);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  notify(formNotice, "");
  try {
    const response = await api("/api/sessions/", { method: "POST", body: { name: form.elements.name.value.trim() } });
    location.assign(`/sessions/${response.data.id}`);
  } catch (error) {
    notify(formNotice, describeError(error));
    submit.disabled = false;
  }
});

refresh();
