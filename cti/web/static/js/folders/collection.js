// Collection folder (basics): what is owed and a promise to pay.
import { api, el, money, day } from "../api.js";

export default {
  routine: "collection",
  title: "Collection",
  render({ pop, attention, toast }) {
    const open = (pop && pop.receivables) || [];
    const overdue = open.filter((r) => r.overdue);
    const total = overdue.reduce((s, r) => s + Number(r.amount), 0);
    const date = el("input", { type: "date", name: "promised_on" });
    const amount = el("input", { type: "number", step: "0.01", min: "0.01", name: "promised_amount", value: total ? total.toFixed(2) : "" });
    const add = el("button", { type: "button", onclick: async () => {
      try {
        await api("POST", `/api/v1/desk/attentions/${attention.id}/promises`, { promised_on: date.value, amount: Number(amount.value) });
        toast("Promise to pay recorded");
      } catch (e) { toast(e.message, true); }
    } }, "Record promise");
    return el("div", { style: "display:grid;gap:12px" },
      el("div", {}, overdue.length ? `${overdue.length} overdue invoice${overdue.length > 1 ? "s" : ""}, ${money(total)} in total; oldest due ${day(overdue[0].due_on)}.` : "Nothing overdue."),
      el("div", { class: "grid3", style: "align-items:end" }, el("label", {}, "Promised for", date), el("label", {}, "Amount", amount), add));
  },
  collect() { return {}; },
};
