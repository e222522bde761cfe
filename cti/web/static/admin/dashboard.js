// Tablero: cases by state, pending messages, overdue promises to pay, the operators' load and
// what waits to be handled; for admins, what cti finds wrong in a PBX's own configuration.
import { api, el, when, money } from "../js/api.js";
import { CASE_STATES, fromText, toText } from "../js/inbox.js";
import { t, N_, fmt } from "../js/i18n.js";
import { pageHead, table } from "./ui.js";

const FOOT = {
  active: N_("open, nobody assigned"), assigned: N_("with an operator"), suspended: N_("paused for now"),
  delinquent: N_("customers in arrears"), withdrawn: N_("taken out"), closed: N_("finished cases"),
};

function greeting(now, name) {
  const hour = now.getHours();
  if (hour < 12) return t("Good morning, {name}. Here is the call center at a glance.", { name });
  if (hour < 19) return t("Good afternoon, {name}. Here is the call center at a glance.", { name });
  return t("Good evening, {name}. Here is the call center at a glance.", { name });
}

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

// The command that makes Asterisk read rtp.conf again.
const RTP_RELOAD = "module reload res_rtp_asterisk.so";

// A PBX gives browser phones RTP ports browsers refuse (GET /api/v1/pbx/warnings): which PBX,
// what it does to calls, and what to change. Ports are written as rtp.conf writes them.
function rtpPortsCard(w) {
  const values = { pbx: w.pbx, first: w.first, last: w.last, ports: w.refused.join(", ") };
  const what = w.refused.length === 1
    ? t("PBX {pbx} gives browser phones RTP ports {first}–{last}, which include {ports}: browsers refuse that port.", values)
    : t("PBX {pbx} gives browser phones RTP ports {first}–{last}, which include {ports}: browsers refuse those ports.", values);
  const chance = w.one_in ? t("About one browser-phone call in {n} is given such a port and has no audio at all.", { n: fmt.number(w.one_in) }) : null;
  return el("section", { class: "card pbx-warning", "data-pbx-warning": w.code, "data-pbx": w.pbx },
    el("div", { class: "card-head" }, el("h2", {}, `⚠ ${t("Browser phones: some calls have no audio")}`), el("span", { class: "chip warn" }, t("PBX {pbx}", { pbx: w.pbx }))),
    el("p", { class: "what" }, chance ? `${what} ${chance}` : what),
    el("p", { class: "todo" }, el("b", {}, t("What to do:")), " ",
      t("in the PBX's rtp.conf, set rtpstart and rtpend to a range without such ports, for example {first}–{last}; open that range (UDP) in the firewall; then have Asterisk read the file again:", { first: w.clear_first, last: w.clear_last }),
      " ", el("code", {}, RTP_RELOAD)),
    el("p", { class: "muted small" }, t("cti reads the range again each time it connects to the PBX; this notice goes away then. More in docs/production.md, “The browser phone (WebRTC)”.")));
}

// How each kind of PBX warning is shown, by its code.
const WARNING_CARDS = { rtp_ports_browser_refused: rtpPortsCard };

export default async function dashboard(main, ctx) {
  const [by, pending, load, promises, delinquents, pbx] = await Promise.all([
    api("GET", "/api/v1/cases/counts"),
    api("GET", "/api/v1/messages?pending=true"),
    ctx.isAdmin ? api("GET", "/api/v1/cases/suggestion") : Promise.resolve(null),
    overduePromises(ctx),
    api("GET", "/api/v1/collection/delinquents"),
    ctx.isAdmin ? api("GET", "/api/v1/pbx/warnings") : Promise.resolve({ warnings: [] }),
  ]);
  const now = new Date();
  const due = pending.filter((m) => !m.postponed_until || new Date(m.postponed_until) <= now);

  const tiles = el("section", { class: "tiles", id: "tiles" },
    CASE_STATES.map(([key, label]) => el("a", { class: `tile t-${key}`, href: `#cases/${key}`, "data-tile": key },
      el("span", { class: "label" }, t(label)), el("span", { class: "value" }, String(by[key] || 0)), el("span", { class: "foot" }, t(FOOT[key])))),
    el("a", { class: `tile t-messages${due.length ? " alert" : ""}`, href: "#messages", "data-tile": "messages" },
      el("span", { class: "label" }, t("Pending messages")), el("span", { class: "value" }, String(pending.length)),
      el("span", { class: "foot" }, t("{due} due now, {later} postponed", { due: due.length, later: pending.length - due.length }))),
    promises ? el("a", { class: `tile t-promises${promises.length ? " alert" : ""}`, href: "/static/reports/index.html", "data-tile": "promises" },
      el("span", { class: "label" }, t("Overdue promises")), el("span", { class: "value" }, String(promises.length)),
      el("span", { class: "foot" }, t("promised date passed, unpaid"))) : null);

  const loadCard = load ? el("section", { class: "card" },
    el("div", { class: "card-head" }, el("h2", {}, t("Open cases by operator")), el("a", { href: "#cases/active", class: "small" }, t("Assign cases →"))),
    load.length ? el("div", { class: "bars", id: "load" }, (() => {
      const top = Math.max(1, ...load.map((o) => o.open_cases));
      return load.map((o) => el("div", { class: "bar-row" },
        el("span", {}, o.username),
        el("span", { class: "bar" }, Object.entries(o.by_status).map(([s, n]) => el("i", { class: `s-${s}`, style: `width:${(100 * n) / top}%`, title: `${n} ${s}` }))),
        el("span", { class: "muted small" }, t("{open} · load {load}", { open: o.open_cases, load: fmt.number(o.weighted_load) }))));
    })()) : el("div", { class: "empty" }, t("No operators yet.")),
    el("div", { class: "legend" }, el("span", {}, el("i", { style: "background:#7c3aed" }), t("active / assigned")),
      el("span", {}, el("i", { style: "background:var(--bad)" }), t("delinquent")), el("span", {}, el("i", { style: "background:#f59e0b" }), t("suspended")))) : null;

  const messagesCard = el("section", { class: "card" },
    el("div", { class: "card-head" }, el("h2", {}, t("Waiting messages")), el("a", { href: "#messages", class: "small" }, t("All messages →"))),
    table([
      [t("Received"), (m) => when(m.created_at)],
      [t("From"), (m) => el("b", {}, fromText(m))],
      [t("To"), (m) => toText(m, ctx.lists)],
      [t("About"), (m) => m.description],
    ], due.slice(0, 6), { empty: t("Nothing waiting.") }));

  const debtCard = el("section", { class: "card" },
    el("div", { class: "card-head" }, el("h2", {}, t("Customers in arrears")), el("a", { href: "#cases/delinquent", class: "small" }, t("Delinquent cases →"))),
    table([
      [t("Customer"), (d) => el("b", {}, d.name), ""],
      [t("Invoices"), (d) => String(d.overdue_invoices), "num"],
      [t("Overdue"), (d) => money(d.overdue_amount), "num"],
      [t("Oldest"), (d) => t("{n} days", { n: d.oldest_days }), "num"],
    ], delinquents.slice(0, 6), { empty: t("No overdue invoices.") }));

  main.append(...[
    pageHead(t("Dashboard"), greeting(now, ctx.user.full_name)),
    ...pbx.warnings.map((w) => WARNING_CARDS[w.code]?.(w)),
    tiles,
    el("div", { class: "cols" }, loadCard || debtCard, messagesCard),
    loadCard ? debtCard : null].filter(Boolean));
}
