// The /credits page: balance, paginated transactions, and the mock purchase form when allowed.

import { api, describeError, formatTime, h, notify } from "./api.js";

const PAGE_SIZE = 20;
const root = document.getElementById("credits");
const notice = document.getElementById("credits-notice");
const rows = document.getElementById("transaction-rows");
const prev = document.getElementById("page-prev");
const next = document.getElementById("page-next");
const pageInfo = document.getElementById("page-info");
const purchase = document.getElementById("purchase-form");
let page = 1;

const credits = (value) => Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });

function row(transaction) {
  const sign = transaction.amount > 0 ? "+" : "";
  return h(
    "tr",
    { dataset: { type: transaction.type } },
    h("td", {}, h("time", { dateTime: transaction.created_at }, formatTime(transaction.created_at))),
    h("td", {}, h("span", { className: "tag" }, transaction.type)),
    h("td", {}, `${sign}${credits(transaction.amount)}`),
    h("td", {}, credits(transaction.balance_after)),
    h("td", {}, transaction.description),
  );
}

async function refresh() {
  try {
    const [balance, list] = await Promise.all([
      api("/api/credits/balance"),
      api(`/api/credits/transactions?page=${page}&page_size=${PAGE_SIZE}`),
    ]);
    document.getElementById("credit-balance").textContent = credits(balance.balance);
    document.getElementById("credit-earned").textContent = credits(balance.total_earned);
    document.getElementById("credit-spent").textContent = credits(balance.total_spent);
    document.getElementById("credit-count").textContent = String(balance.transaction_count);
    rows.replaceChildren(...list.items.map(row));
    const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
    pageInfo.textContent = `Page ${list.page} of ${pages}`;
    prev.disabled = list.page <= 1;
    next.disabled = !list.has_more;
  } catch (error) {
    notify(notice, `Could not load your credits: ${describeError(error)}`);
  }
  root.dataset.loaded = "true";
}

prev.addEventListener("click", () => {
  page -= 1;
  refresh();
});
next.addEventListener("click", () => {
  page += 1;
  refresh();
});

purchase?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = purchase.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await api("/api/credits/mock-purchase", {
      method: "POST",
      body: { amount: Number(purchase.elements.amount.value), description: "Mock purchase" },
    });
    notify(notice, `${answer.message}. Balance: ${credits(answer.balance_after)}.`, "info");
    page = 1;
  } catch (error) {
    notify(notice, describeError(error));
  } finally {
    button.disabled = false;
  }
  await refresh();
});

await refresh();
