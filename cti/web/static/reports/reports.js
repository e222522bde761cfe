// Reports: pick one, a date range, see its chart and table, export it as CSV (audited).
import { api, ApiError, el } from "/static/js/api.js";
import { fmt, language, languagePicker, loadI18n, N_, t } from "/static/js/i18n.js";
import { signOut, signedInSupervisor } from "/static/wallboard/common.js";

const TITLES = {
  productivity: N_("Productivity"), dispositions: N_("Dispositions"), "contact-frequency": N_("Contact frequency"),
  critical: N_("Critical"), queues: N_("Queues"), campaigns: N_("Campaigns"), areas: N_("Areas"), pauses: N_("Pauses"),
};
const PALETTE = ["#3b82f6", "#22c55e", "#ef4444", "#f59e0b", "#a78bfa", "#14b8a6", "#ec4899", "#64748b"];
// A series' tone (cti/db/reports.py): what was answered or closed in green, abandoned in red, what is
// still to do in amber, what went nowhere in grey.
const TONES = { good: "#22c55e", bad: "#ef4444", warn: "#f59e0b", info: "#3b82f6", muted: "#64748b" };
const RATE = new Set(["answer_rate", "abandon_rate", "abandon_cap", "close_rate"]);
const MONEY = new Set(["amount"]);
const $ = (id) => document.getElementById(id);
const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
let current = "productivity";
let chart = null;
let me = null;
let ready = false;

function iso(d) { return d.toLocaleDateString("en-CA"); }

function setRange(days) {
  const to = new Date();
  const from = new Date(to.getTime() - days * 86400000);
  $("from").value = iso(from);
  $("to").value = iso(to);
}

function query(extra = "") {
  const p = new URLSearchParams({ from: $("from").value, to: $("to").value, tz });
  if (current === "critical") p.set("pending_days", $("pending").value || "3");
  return `/api/v1/reports/${current}?${p}${extra}`;
}

function cell(key, value) {
  if (value === null || value === undefined) return "—";
  if (RATE.has(key)) return fmt.percent(value, 1);
  if (MONEY.has(key)) return fmt.money(value);
  if (typeof value === "number") return fmt.number(value);
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return fmt.dateTime(value);
  if (typeof value === "string" && /^\d{4}-\d\d-\d\d$/.test(value)) return fmt.date(value);
  return value;
}

let lastSpec = null;

function drawPrinted(printing) {
  if (!lastSpec) return;
  drawChart(lastSpec, printing);
  if (printing && chart) chart.resize();
}

function drawChart(spec, printing = false) {
  const C = window.Chart;
  if (!C) return;
  lastSpec = spec;
  C.defaults.color = printing ? "#222222" : "#8b95b3";
  C.defaults.locale = language(); // the ticks' numbers as the page's language writes them
  C.defaults.borderColor = printing ? "#cccccc" : "#27314f";
  if (chart) chart.destroy();
  const doughnut = spec.type === "doughnut";
  chart = new C($("chart"), {
    type: spec.type || "bar",
    data: {
      labels: spec.labels || [],
      datasets: (spec.series || []).map((s, i) => ({
        label: s.label, data: s.data,
        backgroundColor: doughnut ? PALETTE : TONES[s.tone] || PALETTE[i % PALETTE.length],
        borderColor: doughnut ? "#141b2e" : undefined,
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: doughnut ? "right" : "top" } },
      scales: doughnut ? {} : {
        x: { stacked: !!spec.stacked },
        y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
}

// What a printed page says at its top: the report, its filters, when and by whom it was printed.
function paintPrintHead(r) {
  const filters = [t("Period {from} – {to}", { from: fmt.date(r.from), to: fmt.date(r.to) }), t("time zone {tz}", { tz })];
  if (current === "critical") filters.push(t("pending over {days} days", { days: $("pending").value || "3" }));
  $("print-filters").textContent = filters.join(" · ");
  const printed = fmt.dateTime(new Date());
  $("print-when").textContent = me ? t("Printed {when} by {name}", { when: printed, name: me.full_name }) : t("Printed {when}", { when: printed });
}

async function show() {
  $("error").textContent = "";
  $("pending-wrap").classList.toggle("hidden", current !== "critical");
  for (const b of document.querySelectorAll("#tabs button")) b.setAttribute("aria-selected", String(b.dataset.report === current));
  $("csv").href = query("&format=csv");
  try {
    const r = await api("GET", query());
    $("title").textContent = `${r.title} · ${fmt.date(r.from)} – ${fmt.date(r.to)}`;
    paintPrintHead(r);
    $("table").querySelector("thead").replaceChildren(el("tr", {}, r.columns.map((c) => el("th", {}, c.label))));
    $("table").querySelector("tbody").replaceChildren(...r.rows.map((row) =>
      el("tr", {}, r.columns.map((c) => el("td", { class: typeof row[c.key] === "number" ? "num" : "" }, cell(c.key, row[c.key]))))));
    $("empty").classList.toggle("hidden", r.rows.length > 0);
    drawChart(r.chart);
  } catch (e) {
    $("error").textContent = e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : e.message;
  }
}

async function main() {
  // The range and the form first: dates typed while the page loads are kept, and shown once ready.
  setRange(6);
  $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); if (ready) show(); });
  await loadI18n();
  document.title = `cti · ${t("reports")}`;
  me = await signedInSupervisor(t("reports"));
  $("signout").addEventListener("click", signOut);
  // The language the reports speak to me (mine, else my browser's).
  $("signout").before(languagePicker((language) => api("PUT", "/api/v1/me/language", { language })));
  $("print").addEventListener("click", () => window.print());
  // The chart is drawn for the page it is printed on (light, and the paper's width), then back.
  window.addEventListener("beforeprint", () => { document.documentElement.classList.remove("dark"); drawPrinted(true); });
  window.addEventListener("afterprint", () => { document.documentElement.classList.add("dark"); drawPrinted(false); });
  const list = await api("GET", "/api/v1/reports");
  $("tabs").replaceChildren(...list.reports.map((name) =>
    el("button", { type: "button", role: "tab", dataset: { report: name }, onclick: () => { current = name; show(); } }, name in TITLES ? t(TITLES[name]) : name)));
  for (const b of document.querySelectorAll(".quick button")) b.addEventListener("click", () => { setRange(Number(b.dataset.days)); show(); });
  const wanted = new URLSearchParams(location.search).get("report");
  if (wanted && list.reports.includes(wanted)) current = wanted;
  ready = true;
  await show();
}

main();
