// The screen-pop card: who is calling and what the center knows about them.
import { el, when, day, money } from "./api.js";
import { t, N_ } from "./i18n.js";
import { TRANSFER_STATUS, renderTransferNote } from "./desk-transfer.js";

const STATUS = {
  ringing: [N_("Ringing"), ""],
  answered: [N_("On the call"), "ok"],
  caller_hung_up: [N_("Caller hung up"), "bad"],
  missed: [N_("Not answered"), "warn"],
  ended: [N_("Call ended"), "grey"],
  ...TRANSFER_STATUS,
};

function who(pop) {
  const m = pop.match;
  const customer = pop.customer;
  const lead = pop.campaign?.lead;
  if (!m && lead) return { name: lead.name || lead.phone, sub: t("Lead of {campaign}", { campaign: pop.campaign.campaign.name }) };
  if (!m) return { name: pop.caller_name || pop.caller_num || t("Unknown caller"), sub: t("Not in the records") };
  if (m.kind === "contact") return { name: m.name, sub: `${m.position ? `${m.position} · ` : ""}${customer ? customer.name : ""}` };
  if (m.kind === "customer") return { name: customer.name, sub: t("Customer {code}", { code: customer.code }) };
  const KIND = { suspect: N_("Suspect"), prospect: N_("Prospect"), contact: N_("Contact") };
  const kind = KIND[m.kind] ? t(KIND[m.kind]) : m.kind;
  return { name: m.name, sub: `${kind}${m.company ? ` · ${m.company}` : ""}` };
}

function section(title, items, empty) {
  return el("div", { class: "pop-section" }, el("h3", {}, title),
    items.length ? el("ul", { class: "list" }, items) : el("div", { class: "muted small" }, empty));
}

export function renderPop(pop, ctx) {
  const [raw, tone] = STATUS[pop.status] || [pop.status, "grey"];
  const label = t(raw);
  const w = who(pop);
  const head = el("div", { class: "pop-head" },
    el("div", {},
      el("div", { class: "pop-name", id: "pop-name" }, w.name),
      el("div", { class: "pop-sub" }, w.sub),
      el("div", { class: "muted small", style: "margin-top:4px" },
        pop.campaign
          ? t("{phone} · campaign {campaign} · attempt {n}", { phone: pop.campaign.lead.phone, campaign: pop.campaign.campaign.name, n: pop.campaign.lead.attempts })
          : t("{number} · queue {queue}", { number: pop.caller_num || t("no caller id"), queue: pop.queue }))),
    el("span", { class: `chip ${tone}`, id: "pop-status" }, el("span", { class: "dot" }), label),
    // Call them back (desk-dial.js): once this call is over.
    ["customer", "contact"].includes(pop.match?.kind) && ["ended", "missed", "caller_hung_up"].includes(pop.status)
      ? el("button", { type: "button", class: "small", id: "pop-call", "data-dial": `${pop.match.kind}:${pop.match.id}` }, t("☎ Call back"))
      : null);
  const parts = [head];
  const transferred = renderTransferNote(pop);
  if (transferred) parts.push(transferred);
  if (pop.campaign?.debts.length) {
    const debts = pop.campaign.debts;
    const total = debts.reduce((sum, d) => sum + Number(d.amount), 0);
    parts.push(section(t("Campaign debts · {total}", { total: money(total) }), debts.map((d) =>
      el("li", { class: "overdue", "data-debt": d.receivable_id },
        el("div", { class: "row" }, el("b", {}, d.invoice_number), el("span", {}, money(d.amount))),
        el("div", { class: "small muted" }, t("due {day} · {n} days overdue", { day: day(d.due_on), n: d.days_overdue })))), ""));
  }
  if (pop.matches > 1) parts.push(el("div", { class: "chip warn", style: "margin-top:8px" }, t("{n} records share this number", { n: pop.matches })));
  if (pop.customer) {
    const c = pop.customer;
    parts.push(el("div", { class: "muted small", style: "margin-top:8px" },
      [c.tax_id && t("Tax id {id}", { id: c.tax_id }), c.email].filter(Boolean).join(" · ")));
  }
  if (pop.masked) parts.push(el("div", { class: "chip grey", style: "margin-top:8px", id: "pop-masked" }, t("Personal data masked")));
  if (pop.messages.length) {
    parts.push(section(t("Pending messages"), pop.messages.map((m) =>
      el("li", { class: "alert", "data-message": m.id },
        el("div", { class: "row" }, el("b", {}, m.type || t("Message")), el("span", { class: "small muted" }, when(m.created_at))),
        el("div", {}, m.description),
        m.postponed_until ? el("div", { class: "small muted" }, t("postponed until {when}", { when: when(m.postponed_until) })) : null,
        ctx.attention ? el("button", { type: "button", class: "ghost small", style: "padding:2px 0", onclick: () => ctx.handleMessage(m) },
          ctx.messageId === m.id ? t("✓ handled in this attention (undo)") : t("Handle in this attention")) : null)), ""));
  }
  if (!pop.match) parts.push(ctx.registerForm(pop));
  const WORD = { pending: N_("pending"), planned: N_("planned"), closed: N_("closed"), cancelled: N_("cancelled"),
    telemarketing: N_("telemarketing"), telesales: N_("telesales"), collection: N_("collection") };
  const word = (w) => (WORD[w] ? t(WORD[w]) : w);
  parts.push(section(t("Last attentions"), pop.attentions.map((a) =>
    el("li", {},
      el("div", { class: "row" }, el("b", {}, a.subject || word(a.kind)), el("span", { class: "small muted" }, when(a.created_at))),
      el("div", { class: "small muted" }, `${word(a.status)}${a.closing_reason ? ` · ${a.closing_reason}` : ""}${a.operator ? ` · ${a.operator}` : ""}`))),
    t("No earlier attentions.")));
  if (ctx.routines.includes("collection")) {
    const total = pop.receivables.reduce((s, r) => s + Number(r.amount), 0);
    parts.push(section(`${t("Open receivables")}${pop.receivables.length ? ` · ${money(total)}` : ""}`, pop.receivables.map((r) =>
      el("li", { class: r.overdue ? "overdue" : "", "data-receivable": r.id },
        el("div", { class: "row" }, el("b", {}, r.invoice_number), el("span", {}, money(r.amount))),
        el("div", { class: "small muted" }, r.overdue ? t("due {day} · {n} days overdue", { day: day(r.due_on), n: r.days_overdue }) : t("due {day}", { day: day(r.due_on) })))), t("Nothing owed.")));
  }
  if (ctx.routines.includes("telesales")) {
    parts.push(section(t("Open quotes"), pop.quotes.map((q) =>
      el("li", {}, el("div", { class: "row" }, el("b", {}, t("Quote {id}", { id: q.id })), el("span", {}, money(q.total))),
        el("div", { class: "small muted" }, t("valid until {day}", { day: day(q.valid_until) })))), t("No open quotes.")));
    parts.push(section(t("Open orders"), pop.orders.map((o) =>
      el("li", {}, el("div", { class: "row" }, el("b", {}, t("Order {id}", { id: o.id })), el("span", {}, money(o.total))),
        el("div", { class: "small muted" }, t("since {day}", { day: day(o.created_at) })))), t("No open orders.")));
  }
  return parts;
}
