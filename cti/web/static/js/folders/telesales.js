// Telesales folder (basics): the customer's open quotes and orders; quoting comes with its issue.
import { el, money, day } from "../api.js";

export default {
  routine: "telesales",
  title: "Telesales",
  render({ pop }) {
    const quotes = (pop && pop.quotes) || [];
    const orders = (pop && pop.orders) || [];
    const rows = [
      ...quotes.map((q) => el("tr", {}, el("td", {}, `Quote ${q.id}`), el("td", {}, "open"), el("td", {}, day(q.valid_until)), el("td", {}, money(q.total)))),
      ...orders.map((o) => el("tr", {}, el("td", {}, `Order ${o.id}`), el("td", {}, "not billed"), el("td", {}, day(o.created_at)), el("td", {}, money(o.total)))),
    ];
    return el("div", {},
      rows.length
        ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Operation"), el("th", {}, "State"), el("th", {}, "Date"), el("th", {}, "Total"))), el("tbody", {}, rows))
        : el("div", { class: "muted" }, "No open quotes or orders for this caller."));
  },
  collect() { return {}; },
};
