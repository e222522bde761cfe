// Collection folder: the customer's financial position (overdue invoices, days overdue, totals),
// promises to pay and instalment plans recorded with this attention, and their outcomes.
// Everything goes through the back office's /api/v1/collection endpoints.
import { api, el, money, day, showError, clearErrors } from "../api.js";

function overdueTable(pos) {
  if (!pos.overdue.length) return el("div", { class: "muted" }, "Nothing overdue.");
  return el("table", { id: "overdue-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "Invoice"), el("th", {}, "Due"),
      el("th", { class: "num" }, "Days overdue"), el("th", { class: "num" }, "Amount"))),
    el("tbody", {}, pos.overdue.map((i) => el("tr", { "data-invoice": i.id },
      el("td", {}, i.invoice_number), el("td", {}, day(i.due_on)),
      el("td", { class: "num" }, String(i.days_overdue)), el("td", { class: "num" }, money(i.amount))))));
}

function totals(pos) {
  const t = pos.totals;
  const cell = (k, v, id) => el("div", {}, el("span", { class: "muted small" }, k), el("b", { id }, v));
  return el("div", { class: "totals" },
    cell("Overdue", money(t.overdue_amount), "overdue-total"),
    cell("Invoices overdue", String(t.overdue_invoices)),
    cell("Oldest", `${t.oldest_days} days`),
    cell("Open in total", money(t.open_amount)),
    cell("Promised", money(t.promised_amount)));
}

function promiseForm(pos, ctx, reload) {
  const open = [...pos.overdue, ...pos.not_due];
  const amount = el("input", { type: "number", step: "0.01", min: "0.01", name: "amount", id: "promise-amount",
    value: Number(pos.totals.overdue_amount) > 0 ? Number(pos.totals.overdue_amount).toFixed(2) : "" });
  const date = el("input", { type: "date", name: "promised_on", id: "promise-date" });
  const invoice = el("select", { name: "receivable_id", id: "promise-invoice" },
    el("option", { value: "" }, "The whole debt"),
    open.map((i) => el("option", { value: i.id }, `${i.invoice_number} · ${money(i.amount)}`)));
  const error = el("div", { class: "error" });
  const box = el("div", {},
    el("h3", {}, "Promise to pay"),
    el("div", { class: "actions" },
      el("label", {}, "Promised for", date), el("label", {}, "Amount", amount), el("label", {}, "Invoice", invoice),
      el("button", { type: "button", id: "promise-add", class: "primary", onclick: async () => {
        clearErrors(box);
        const body = { customer_id: pos.customer.id, attention_id: ctx.attention.id, promised_on: date.value, amount: amount.value };
        if (invoice.value) body.receivable_id = Number(invoice.value);
        try {
          await api("POST", "/api/v1/collection/promises", body);
          ctx.toast("Promise to pay recorded");
          ctx.changed();
          await reload();
        } catch (e) { showError(box, e, error); }
      } }, "Record promise")),
    error);
  return box;
}

function planForm(pos, ctx, reload) {
  const total = el("input", { type: "number", step: "0.01", min: "0.01", name: "total", value: Number(pos.totals.open_amount) > 0 ? Number(pos.totals.open_amount).toFixed(2) : "" });
  const count = el("input", { type: "number", min: "1", max: "120", name: "count", value: "3" });
  const first = el("input", { type: "date", name: "first_due_on" });
  const error = el("div", { class: "error" });
  const box = el("div", {},
    el("h3", {}, "Instalment plan"),
    el("div", { class: "actions" },
      el("label", {}, "Total", total), el("label", {}, "Instalments", count), el("label", {}, "First due", first),
      el("button", { type: "button", id: "plan-add", onclick: async () => {
        clearErrors(box);
        try {
          await api("POST", "/api/v1/collection/plans", {
            customer_id: pos.customer.id, attention_id: ctx.attention.id,
            total: total.value, count: Number(count.value), first_due_on: first.value || undefined,
          });
          ctx.toast("Instalment plan recorded");
          ctx.changed();
          await reload();
        } catch (e) { showError(box, e, error); }
      } }, "Record plan")),
    error);
  return box;
}

function outcomes(pos, ctx, reload) {
  const settle = (p, how) => async () => {
    try { await api("POST", `/api/v1/collection/promises/${p.id}/${how}`); await reload(); }
    catch (e) { ctx.toast(e.message, true); }
  };
  const promises = pos.promises.map((p) => el("li", { "data-promise": p.id },
    el("div", { class: "row" }, el("b", {}, `${money(p.amount)} on ${day(p.promised_on)}`), el("span", { class: `chip${p.status === "broken" ? " bad" : p.status === "kept" ? " ok" : ""}` }, p.status)),
    el("div", { class: "small muted" }, p.attention_id === ctx.attention.id ? "promised in this attention" : `attention ${p.attention_id ?? "—"}`),
    p.status === "open" ? el("div", { class: "actions" },
      el("button", { type: "button", onclick: settle(p, "kept") }, "Kept"),
      el("button", { type: "button", onclick: settle(p, "broken") }, "Broken")) : null));
  const plans = pos.plans.map((pl) => el("li", { "data-plan": pl.id },
    el("div", { class: "row" }, el("b", {}, `Plan ${pl.id} · ${money(pl.total)}`), el("span", { class: "chip" }, pl.status)),
    el("div", { class: "small muted" }, pl.instalments.map((i) => `${i.seq}: ${money(i.amount)} on ${day(i.due_on)}${i.paid_at ? " (paid)" : ""}`).join(" · "))));
  return el("div", {}, el("h3", {}, "Promises and plans"),
    promises.length || plans.length ? el("ul", { class: "list", id: "promises" }, promises, plans)
      : el("div", { class: "muted small", id: "promises" }, "No promises or plans yet."));
}

export default {
  routine: "collection",
  title: "Collection",
  render(ctx) {
    const root = el("div", { class: "folder", id: "collection-folder" });
    const customer = ctx.attention?.customer_id;
    if (!customer) {
      root.append(el("div", { class: "muted" }, "The caller is not a known customer: there is no debt to collect."));
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
    root.append(el("div", { class: "muted" }, "Loading the financial position…"));
    reload();
    return root;
  },
  collect() { return {}; },
};
