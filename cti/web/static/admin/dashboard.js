// Tablero: cases by state, pending messages, overdue promises to pay, the operators' load and
// what waits to be handled.
import { api, el, when, money } from "../js/api.js";
import { CASE_STATES, fromText, toText } from "../js/inbox.js";
import { pageHead, table } from "./ui.js";

const FOOT = {
  active: "open, nobody assigned", assigned: "with an operator", suspended: "paused for now",
  delinquent: "customers in arrears", withdrawn: "taken out", closed: "finished",
};

function isoDay(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// Open promises to pay whose date passed: the "critical" report over the last year.
async function overduePromises(ctx) {
  if (!["supervisor", "admin"].includes(ctx.user.role)) return null;
  const to = new Date(Date.now() + 86400000);
  const from = new Date(to.getTime() - 365 * 86400000);
  const report = await api("GET", `/api/v1/reports/critical?from=${isoDay(from)}&to=${isoDay(to)}`);
  return report.rows.filter((r) => String(r.problem).startsWith("promise"));
}

export default async function dashboard(main, ctx) {
  const [by, pending, load, promises, delinquents] = await Promise.all([
    api("GET", "/api/v1/cases/counts"),
    api("GET", "/api/v1/messages?pending=true"),
    ctx.isAdmin ? api("GET", "/api/v1/cases/suggestion") : Promise.resolve(null),
    overduePromises(ctx),
    api("GET", "/api/v1/collection/delinquents"),
  ]);
  const now = new Date();
  const due = pending.filter((m) => !m.postponed_until || new Date(m.postponed_until) <= now);

  const tiles = el("section", { class: "tiles", id: "tiles" },
    CASE_STATES.map(([key, label]) => el("a", { class: `tile t-${key}`, href: `#cases/${key}`, "data-tile": key },
      el("span", { class: "label" }, label), el("span", { class: "value" }, String(by[key] || 0)), el("span", { class: "foot" }, FOOT[key]))),
    el("a", { class: `tile t-messages${due.length ? " alert" : ""}`, href: "#messages", "data-tile": "messages" },
      el("span", { class: "label" }, "Pending messages"), el("span", { class: "value" }, String(pending.length)),
      el("span", { class: "foot" }, `${due.length} due now, ${pending.length - due.length} postponed`)),
    promises ? el("a", { class: `tile t-promises${promises.length ? " alert" : ""}`, href: "/static/reports/index.html", "data-tile": "promises" },
      el("span", { class: "label" }, "Overdue promises"), el("span", { class: "value" }, String(promises.length)),
      el("span", { class: "foot" }, "promised date passed, unpaid")) : null);

  const loadCard = load ? el("section", { class: "card" },
    el("div", { class: "card-head" }, el("h2", {}, "Open cases by operator"), el("a", { href: "#cases/active", class: "small" }, "Assign cases →")),
    load.length ? el("div", { class: "bars", id: "load" }, (() => {
      const top = Math.max(1, ...load.map((o) => o.open_cases));
      return load.map((o) => el("div", { class: "bar-row" },
        el("span", {}, o.username),
        el("span", { class: "bar" }, Object.entries(o.by_status).map(([s, n]) => el("i", { class: `s-${s}`, style: `width:${(100 * n) / top}%`, title: `${n} ${s}` }))),
        el("span", { class: "muted small" }, `${o.open_cases} · load ${o.weighted_load}`)));
    })()) : el("div", { class: "empty" }, "No operators yet."),
    el("div", { class: "legend" }, el("span", {}, el("i", { style: "background:#7c3aed" }), "active / assigned"),
      el("span", {}, el("i", { style: "background:var(--bad)" }), "delinquent"), el("span", {}, el("i", { style: "background:#f59e0b" }), "suspended"))) : null;

  const messagesCard = el("section", { class: "card" },
    el("div", { class: "card-head" }, el("h2", {}, "Waiting messages"), el("a", { href: "#messages", class: "small" }, "All messages →")),
    table([
      ["Received", (m) => when(m.created_at)],
      ["From", (m) => el("b", {}, fromText(m))],
      ["To", (m) => toText(m, ctx.lists)],
      ["About", (m) => m.description],
    ], due.slice(0, 6), { empty: "Nothing waiting. " }));

  const debtCard = el("section", { class: "card" },
    el("div", { class: "card-head" }, el("h2", {}, "Customers in arrears"), el("a", { href: "#cases/delinquent", class: "small" }, "Delinquent cases →")),
    table([
      ["Customer", (d) => el("b", {}, d.name), ""],
      ["Invoices", (d) => String(d.overdue_invoices), "num"],
      ["Overdue", (d) => money(d.overdue_amount), "num"],
      ["Oldest", (d) => `${d.oldest_days} days`, "num"],
    ], delinquents.slice(0, 6), { empty: "No overdue invoices." }));

  main.append(...[
    pageHead("Dashboard", `Good ${now.getHours() < 12 ? "morning" : now.getHours() < 19 ? "afternoon" : "evening"}, ${ctx.user.full_name}. Here is the call center at a glance.`),
    tiles,
    el("div", { class: "cols" }, loadCard || debtCard, messagesCard),
    loadCard ? debtCard : null].filter(Boolean));
}
