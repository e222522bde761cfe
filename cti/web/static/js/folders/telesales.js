// Telesales folder: quotes made from this attention, turned into sales orders; the customer's
// orders, each with its fields enabled or disabled as the server says (`editable`, `fields`,
// `locked_reason`: a billed order is locked while sales.edit_billed_orders, MV_ALTPED, is off).
// Everything goes through the back office's /api/v1/telesales endpoints.
import { api, el, money, day, showError, clearErrors } from "../api.js";
import { t, N_ } from "../i18n.js";

function productSelect(products, selected) {
  return el("select", { name: "product_id" },
    products.map((p) => el("option", { value: p.id, selected: p.id === selected }, `${p.code} · ${p.name} · ${money(p.unit_price)}`)));
}

function lineRow(products, item = {}) {
  return el("div", { class: "line" },
    el("label", {}, t("Product"), productSelect(products, item.product_id)),
    el("label", {}, t("Quantity"), el("input", { type: "number", step: "0.001", min: "0.001", name: "quantity", value: item.quantity || "1" })));
}

function readLines(box) {
  return [...box.querySelectorAll(".line")].map((row) => ({
    product_id: Number(row.querySelector("[name=product_id]").value),
    quantity: row.querySelector("[name=quantity]").value,
  }));
}

// Errors name items[n].quantity etc.: point them at the n-th line's input.
function lineError(box, e, fallback) {
  const m = /^items\[(\d+)\]\.(\w+)$/.exec(e.field || "");
  const row = m ? box.querySelectorAll(".line")[Number(m[1])] : null;
  showError(row || box, m ? { ...e, field: m[2] } : e, fallback);
}

function quoteBuilder(ctx, products, reload) {
  const lines = el("div", { style: "display:grid;gap:6px" }, lineRow(products));
  const valid = el("input", { type: "date", name: "valid_until", id: "quote-valid" });
  const error = el("div", { class: "error" });
  const box = el("div", { id: "quote-new" },
    el("h3", {}, t("New quote")),
    lines,
    el("div", { class: "actions", style: "margin-top:6px" },
      el("button", { type: "button", onclick: () => lines.append(lineRow(products)) }, t("Add line")),
      el("label", {}, t("Valid until"), valid),
      el("button", { type: "button", class: "primary", id: "quote-create", onclick: async () => {
        clearErrors(box);
        try {
          await api("POST", "/api/v1/telesales/quotes", {
            customer_id: ctx.attention.customer_id, attention_id: ctx.attention.id,
            valid_until: valid.value || null, items: readLines(lines),
          });
          ctx.toast(t("Quote created"));
          await reload();
        } catch (e) { lineError(box, e, error); }
      } }, t("Create quote"))),
    error);
  return box;
}

function quoteCard(q, ctx, reload) {
  return el("li", { "data-quote": q.id },
    el("div", { class: "row" }, el("b", {}, t("Quote {id}", { id: q.id })), el("span", {}, money(q.total))),
    el("div", { class: "small muted" }, `${t(q.status)} · ${t("valid until {day}", { day: day(q.valid_until) })} · ${q.items.map((i) => `${i.quantity} × ${i.product_code}`).join(", ")}`),
    q.status === "open" ? el("div", { class: "actions", style: "margin-top:6px" },
      el("button", { type: "button", class: "primary", "data-action": "order", onclick: async () => {
        try { await api("POST", `/api/v1/telesales/quotes/${q.id}/order`); ctx.toast(t("Sales order created")); await reload(); }
        catch (e) { ctx.toast(e.message, true); }
      } }, t("Turn into order"))) : null);
}

function orderCard(o, ctx, products, reload) {
  const lines = el("fieldset", { disabled: !o.fields.items }, o.items.map((i) => lineRow(products, i)));
  const error = el("div", { class: "error" });
  const card = el("div", { class: "order", "data-order": o.id },
    el("div", { class: "row" },
      el("b", {}, o.quote_id ? t("Order {id} (quote {quote})", { id: o.id, quote: o.quote_id }) : t("Order {id}", { id: o.id })),
      el("span", { class: `chip${o.cancelled ? " grey" : o.billed ? " warn" : " ok"}` },
        o.cancelled ? t("cancelled") : o.billed ? t("billed {invoice}", { invoice: o.invoice_number }) : t("not billed"))),
    o.editable ? null : el("div", { class: "locked", "data-locked": "" }, o.locked_reason),
    lines,
    el("div", { class: "row" },
      el("div", { class: "actions" },
        el("button", { type: "button", "data-action": "save", disabled: !o.fields.items, onclick: async () => {
          clearErrors(card);
          try {
            await api("PATCH", `/api/v1/telesales/orders/${o.id}`, { items: readLines(lines) });
            ctx.toast(t("Order saved")); await reload();
          } catch (e) { lineError(card, e, error); }
        } }, t("Save items")),
        el("button", { type: "button", class: "danger", "data-action": "cancel", disabled: !o.fields.cancelled, onclick: async () => {
          try { await api("PATCH", `/api/v1/telesales/orders/${o.id}`, { cancelled: true }); ctx.toast(t("Order cancelled")); await reload(); }
          catch (e) { error.textContent = e.message; }
        } }, t("Cancel order"))),
      el("b", {}, money(o.total))),
    error);
  return card;
}

export default {
  routine: "telesales",
  title: N_("Telesales"),
  render(ctx) {
    const root = el("div", { class: "folder", id: "telesales-folder" });
    const a = ctx.attention;
    if (!a?.customer_id) {
      root.append(el("div", { class: "muted" }, t("Quotes and orders need a customer: register the caller first.")));
      return root;
    }
    const reload = async () => {
      try {
        const [products, quotes, orders] = await Promise.all([
          api("GET", "/api/v1/telesales/products"),
          api("GET", `/api/v1/telesales/quotes?customer_id=${a.customer_id}`),
          api("GET", `/api/v1/telesales/orders?customer_id=${a.customer_id}`),
        ]);
        const shown = quotes.filter((q) => q.status === "open" || q.attention_id === a.id);
        root.replaceChildren(
          quoteBuilder(ctx, products, reload),
          el("div", {}, el("h3", {}, t("Quotes")), shown.length
            ? el("ul", { class: "list", id: "quotes" }, shown.map((q) => quoteCard(q, ctx, reload)))
            : el("div", { class: "muted small", id: "quotes" }, t("No open quotes."))),
          el("div", { id: "orders", style: "display:grid;gap:8px" }, el("h3", {}, t("Orders")),
            orders.length ? orders.map((o) => orderCard(o, ctx, products, reload)) : el("div", { class: "muted small" }, t("No orders yet."))));
        ctx.changed();
      } catch (e) {
        root.replaceChildren(el("div", { class: "error" }, e.message));
      }
    };
    root.append(el("div", { class: "muted" }, t("Loading quotes and orders…")));
    reload();
    return root;
  },
  collect() { return {}; },
};
