// The screen-pop card: who is calling and what the center knows about them.
import { el, when, day, money } from "./api.js";
import { TRANSFER_STATUS, renderTransferNote } from "./desk-transfer.js";

const STATUS = {
  ringing: ["Ringing", ""],
  answered: ["On the call", "ok"],
  caller_hung_up: ["Caller hung up", "bad"],
  missed: ["Not answered", "warn"],
  ended: ["Call ended", "grey"],
  ...TRANSFER_STATUS,
};

function who(pop) {
  const m = pop.match;
  const customer = pop.customer;
  const lead = pop.campaign?.lead;
  if (!m && lead) return { name: lead.name || lead.phone, sub: `Lead of ${pop.campaign.campaign.name}` };
  if (!m) return { name: pop.caller_name || pop.caller_num || "Unknown caller", sub: "Not in the records" };
  if (m.kind === "contact") return { name: m.name, sub: `${m.position ? `${m.position} · ` : ""}${customer ? customer.name : ""}` };
  if (m.kind === "customer") return { name: customer.name, sub: `Customer ${customer.code}` };
  return { name: m.name, sub: `${m.kind[0].toUpperCase()}${m.kind.slice(1)}${m.company ? ` · ${m.company}` : ""}` };
}

function section(title, items, empty) {
  return el("div", { class: "pop-section" }, el("h3", {}, title),
    items.length ? el("ul", { class: "list" }, items) : el("div", { class: "muted small" }, empty));
}

export function renderPop(pop, ctx) {
  const [label, tone] = STATUS[pop.status] || [pop.status, "grey"];
  const w = who(pop);
  const head = el("div", { class: "pop-head" },
    el("div", {},
      el("div", { class: "pop-name", id: "pop-name" }, w.name),
      el("div", { class: "pop-sub" }, w.sub),
      el("div", { class: "muted small", style: "margin-top:4px" },
        pop.campaign
          ? `${pop.campaign.lead.phone} · campaign ${pop.campaign.campaign.name} · attempt ${pop.campaign.lead.attempts}`
          : `${pop.caller_num || "no caller id"} · queue ${pop.queue}`)),
    el("span", { class: `chip ${tone}`, id: "pop-status" }, el("span", { class: "dot" }), label),
    // Call them back (desk-dial.js): once this call is over.
    ["customer", "contact"].includes(pop.match?.kind) && ["ended", "missed", "caller_hung_up"].includes(pop.status)
      ? el("button", { type: "button", class: "small", id: "pop-call", "data-dial": `${pop.match.kind}:${pop.match.id}` }, "☎ Call back")
      : null);
  const parts = [head];
  const transferred = renderTransferNote(pop);
  if (transferred) parts.push(transferred);
  if (pop.campaign?.debts.length) {
    const debts = pop.campaign.debts;
    const total = debts.reduce((sum, d) => sum + Number(d.amount), 0);
    parts.push(section(`Campaign debts · ${money(total)}`, debts.map((d) =>
      el("li", { class: "overdue", "data-debt": d.receivable_id },
        el("div", { class: "row" }, el("b", {}, d.invoice_number), el("span", {}, money(d.amount))),
        el("div", { class: "small muted" }, `due ${day(d.due_on)} · ${d.days_overdue} days overdue`))), ""));
  }
  if (pop.matches > 1) parts.push(el("div", { class: "chip warn", style: "margin-top:8px" }, `${pop.matches} records share this number`));
  if (pop.customer) {
    const c = pop.customer;
    parts.push(el("div", { class: "muted small", style: "margin-top:8px" },
      [c.tax_id && `Tax id ${c.tax_id}`, c.email].filter(Boolean).join(" · ")));
  }
  if (pop.masked) parts.push(el("div", { class: "chip grey", style: "margin-top:8px", id: "pop-masked" }, "Personal data masked"));
  if (pop.messages.length) {
    parts.push(section("Pending messages", pop.messages.map((m) =>
      el("li", { class: "alert", "data-message": m.id },
        el("div", { class: "row" }, el("b", {}, m.type || "Message"), el("span", { class: "small muted" }, when(m.created_at))),
        el("div", {}, m.description),
        m.postponed_until ? el("div", { class: "small muted" }, `postponed until ${when(m.postponed_until)}`) : null,
        ctx.attention ? el("button", { type: "button", class: "ghost small", style: "padding:2px 0", onclick: () => ctx.handleMessage(m) },
          ctx.messageId === m.id ? "✓ handled in this attention (undo)" : "Handle in this attention") : null)), ""));
  }
  if (!pop.match) parts.push(ctx.registerForm(pop));
  parts.push(section("Last attentions", pop.attentions.map((a) =>
    el("li", {},
      el("div", { class: "row" }, el("b", {}, a.subject || a.kind), el("span", { class: "small muted" }, when(a.created_at))),
      el("div", { class: "small muted" }, `${a.status}${a.closing_reason ? ` · ${a.closing_reason}` : ""}${a.operator ? ` · ${a.operator}` : ""}`))),
    "No earlier attentions."));
  if (ctx.routines.includes("collection")) {
    const total = pop.receivables.reduce((s, r) => s + Number(r.amount), 0);
    parts.push(section(`Open receivables${pop.receivables.length ? ` · ${money(total)}` : ""}`, pop.receivables.map((r) =>
      el("li", { class: r.overdue ? "overdue" : "", "data-receivable": r.id },
        el("div", { class: "row" }, el("b", {}, r.invoice_number), el("span", {}, money(r.amount))),
        el("div", { class: "small muted" }, `due ${day(r.due_on)}${r.overdue ? ` · ${r.days_overdue} days overdue` : ""}`))), "Nothing owed."));
  }
  if (ctx.routines.includes("telesales")) {
    parts.push(section("Open quotes", pop.quotes.map((q) =>
      el("li", {}, el("div", { class: "row" }, el("b", {}, `Quote ${q.id}`), el("span", {}, money(q.total))),
        el("div", { class: "small muted" }, `valid until ${day(q.valid_until)}`))), "No open quotes."));
    parts.push(section("Open orders", pop.orders.map((o) =>
      el("li", {}, el("div", { class: "row" }, el("b", {}, `Order ${o.id}`), el("span", {}, money(o.total))),
        el("div", { class: "small muted" }, `since ${day(o.created_at)}`))), "No open orders."));
  }
  return parts;
}
