// Collection folder: the customer's financial position (overdue invoices, days overdue, totals),
// promises to pay and instalment plans recorded with this attention, and their outcomes.
// Everything goes through the back office's /api/v1/collection endpoints.
import { api, el, money, day, showError, clearErrors } from "../api.js";
import { t, N_ } from "../i18n.js";

const STATUS = { open: N_("open"), kept: N_("kept"), broken: N_("broken"), active: N_("active"), completed: N_("completed"), cancelled: N_("cancelled") };

function overdueTable(pos) {
  if (!pos.overdue.length) return el("div", { class: "muted" }, t("Nothing overdue."));
  return el("table", { id: "overdue-table" },
    el("thead", {}, el("tr", {}, el("th", {}, t("Invoice")), el("th", {}, t("Due")),
      el("th", { class: "num" }, t("Days overdue")), el("th", { class: "num" }, t("Amount")))),
    el("tbody", {}, pos.overdue.map((i) => el("tr", { "data-invoice": i.id },
      el("td", {}, i.invoice_number), el("td", {}, day(i.due_on)),
      el("td", { class: "num" }, String(i.days_overdue)), el("td", { class: "num" }, money(i.amount))))));
}

function totals(pos) {
  const sums = pos.totals;
  const cell = (k, v, id) => el("div", {}, el("span", { class: "muted small" }, k), el("b", { id }, v));
  return el("div", { class: "totals" },
    cell(t("Overdue"), money(sums.overdue_amount), "overdue-total"),
    cell(t("Invoices overdue"), String(sums.overdue_invoices)),
    cell(t("Oldest"), t("{n} days", { n: sums.oldest_days })),
    cell(t("Open in total"), money(sums.open_amount)),
    cell(t("Promised"), money(sums.promised_amount)));
}

function promiseForm(pos, ctx, reload) {
  const open = [...pos.overdue, ...pos.not_due];
  const amount = el("input", { type: "number", step: "0.01", min: "0.01", name: "amount", id: "promise-amount",
    value: Number(pos.totals.overdue_amount) > 0 ? Number(pos.totals.overdue_amount).toFixed(2) : "" });
  const date = el("input", { type: "date", name: "promised_on", id: "promise-date" });
  const invoice = el("select", { name: "receivable_id", id: "promise-invoice" },
    el("option", { value: "" }, t("The whole debt")),
    open.map((i) => el("option", { value: i.id }, `${i.invoice_number} · ${money(i.amount)}`)));
  const error = el("div", { class: "error" });
  const box = el("div", {},
    el("h3", {}, t("Promise to pay")),
    el("div", { class: "actions" },
      el("label", {}, t("Promised for"), date), el("label", {}, t("Amount"), amount), el("label", {}, t("Invoice"), invoice),
      el("button", { type: "button", id: "promise-add", class: "primary", onclick: async () => {
        clearErrors(box);
        const body = { customer_id: pos.customer.id, attention_id: ctx.attention.id, promised_on: date.value, amount: amount.value };
        if (invoice.value) body.receivable_id = Number(invoice.value);
        try {
          await api("POST", "/api/v1/collection/promises", body);
          ctx.toast(t("Promise to pay recorded"));
          ctx.changed();
          await reload();
        } catch (e) { showError(box, e, error); }
      } }, t("Record promise"))),
    error);
  return box;
}

function planForm(pos, ctx, reload) {
  const total = el("input", { type: "number", step: "0.01", min: "0.01", name: "total", value: Number(pos.totals.open_amount) > 0 ? Number(pos.totals.open_amount).toFixed(2) : "" });
  const count = el("input", { type: "number", min: "1", max: "120", name: "count", value: "3" });
  const first = el("input", { type: "date", name: "first_due_on" });
  const error = el("div", { class: "error" });
  const box = el("div", {},
    el("h3", {}, t("Instalment plan")),
    el("div", { class: "actions" },
      el("label", {}, t("Total"), total), el("label", {}, t("Instalments"), count), el("label", {}, t("First due"), first),
      el("button", { type: "button", id: "plan-add", onclick: async () => {
        clearErrors(box);
        try {
          await api("POST", "/api/v1/collection/plans", {
            customer_id: pos.customer.id, attention_id: ctx.attention.id,
            total: total.value, count: Number(count.value), first_due_on: first.value || undefined,
          });
          ctx.toast(t("Instalment plan recorded"));
          ctx.changed();
          await reload();
        } catch (e) { showError(box, e, error); }
      } }, t("Record plan"))),
    error);
  return box;
}

function outcomes(pos, ctx, reload) {
  const settle = (p, how) => async () => {
    try { await api("POST", `/api/v1/collection/promises/${p.id}/${how}`); await reload(); }
    catch (e) { ctx.toast(e.message, true); }
  };
  const promises = pos.promises.map((p) => el("li", { "data-promise": p.id },
    el("div", { class: "row" }, el("b", {}, t("{amount} on {day}", { amount: money(p.amount), day: day(p.promised_on) })), el("span", { class: `chip${p.status === "broken" ? " bad" : p.status === "kept" ? " ok" : ""}` }, t(STATUS[p.status] || p.status))),
    el("div", { class: "small muted" }, p.attention_id === ctx.attention.id ? t("promised in this attention") : t("attention {id}", { id: p.attention_id ?? "—" })),
    p.status === "open" ? el("div", { class: "actions" },
      el("button", { type: "button", onclick: settle(p, "kept") }, t("Kept")),
      el("button", { type: "button", onclick: settle(p, "broken") }, t("Broken"))) : null));
  const plans = pos.plans.map((pl) => el("li", { "data-plan": pl.id },
    el("div", { class: "row" }, el("b", {}, t("Plan {id} · {total}", { id: pl.id, total: money(pl.total) })), el("span", { class: "chip" }, t(STATUS[pl.status] || pl.status))),
    el("div", { class: "small muted" }, pl.instalments.map((i) => `${i.seq}: ${t("{amount} on {day}", { amount: money(i.amount), day: day(i.due_on) })}${i.paid_at ? ` (${t("paid")})` : ""}`).join(" · "))));
  return el("div", {}, el("h3", {}, t("Promises and plans")),
    promises.length || plans.length ? el("ul", { class: "list", id: "promises" }, promises, plans)
      : el("div", { class: "muted small", id: "promises" }, t("No promises or plans yet.")));
}

export default {
  routine: "collection",
  title: N_("Collection"),
  render(ctx) {
    const root = el("div", { class: "folder", id: "collection-folder" });
    const customer = ctx.attention?.customer_id;
    if (!customer) {
      root.append(el("div", { class: "muted" }, t("The caller is not a known customer: there is no debt to collect.")));
      return root;
    }
    const reload = async () => {
      try {
        const pos = await api("GET", `/api/v1/collection/customers/${customer}/position`);
        root.replaceChildren(totals(pos), overdueTable(pos), promiseForm(pos, ctx, reload), planForm(pos, ctx, reload), outcomes(pos, ctx, reload));
      } catch (e) {
        root.replaceChildren(el("div", { class: "error" }, e.message));
      }
    };
    root.append(el("div", { class: "muted" }, t("Loading the financial position…")));
    reload();
    return root;
  },
  collect() { return {}; },
};
