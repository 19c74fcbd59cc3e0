// Live "Recent activity": listens on /ws/activity (the JWT cookie authenticates the socket)
// and prepends each new entry to #activity-list.

const MAX_ITEMS = 10;
const MAX_RETRIES = 5;

function entryElement(activity) {
  const item = document.createElement("li");
  item.className = `activity-item activity-${activity.status}`;
  const action = document.createElement("span");
  action.className = "activity-action";
  action.textContent = activity.action;
  const details = document.createElement("span");
  details.className = "activity-details";
  details.textContent = activity.details || "";
  const time = document.createElement("time");
  const when = new Date(activity.timestamp);
  time.dateTime = activity.timestamp;
  // Same "YYYY-MM-DD HH:MM" (UTC) shape as the server-rendered entries.
  time.textContent = Number.isNaN(when.getTime()) ? "" : when.toISOString().slice(0, 16).replace("T", " ");
  item.append(action, details, time);
  return item;
}

function prepend(list, activity) {
  document.getElementById("activity-empty")?.remove();
  list.prepend(entryElement(activity));
  while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
}

function connect(list, attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/activity`);
  socket.addEventListener("open", () => {
    attempt = 0;
    list.dataset.live = "true"; // lets tests (and styles) know live updates are on
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "activity" && message.activity) prepend(list, message.activity);
  });
  socket.addEventListener("close", (event) => {
    delete list.dataset.live;
    // 4401: not signed in, retrying will not help. Otherwise back off and try again a few times.
    if (event.code === 4401 || attempt >= MAX_RETRIES) return;
    setTimeout(() => connect(list, attempt + 1), 1000 * 2 ** attempt);
  });
}

const list = document.getElementById("activity-list");
if (list && "WebSocket" in window) connect(list);
