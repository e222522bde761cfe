// Cases by state (Activos, Asignados, Suspendidos, Morosos, Retirados, Cerrados): admins assign
// and reassign the selected cases, helped by the balancing suggestion, and move them between states.
import { api, el, when } from "../js/api.js";
import { CASE_LABEL, CASE_STATES, caseState } from "../js/inbox.js";
import { t, N_ } from "../js/i18n.js";
import { act, pageHead, table, toast, field } from "./ui.js";

const LEAD = {
  active: N_("Open cases nobody works yet: assign them."),
  assigned: N_("Cases an operator is working. Reassign to balance the load."),
  suspended: N_("Cases on hold for now."),
  delinquent: N_("Collection cases of customers in arrears."),
  withdrawn: N_("Cases taken out of the work."),
  closed: N_("Finished cases, kept for the record."),
};
const TITLE = {
  active: N_("Active cases"), assigned: N_("Assigned cases"), suspended: N_("Suspended cases"),
  delinquent: N_("Delinquent cases"), withdrawn: N_("Withdrawn cases"), closed: N_("Closed cases"),
};
const label = (s) => t(CASE_LABEL[s] || s);
const KINDS = ["telemarketing", "telesales", "collection"];

export default async function cases(main, ctx, arg) {
  const status = CASE_STATES.some(([s]) => s === arg) ? arg : "active";
  const state = { kind: "", assignee: "", rows: [], selected: new Set(), suggestion: [] };
  const operators = ctx.lists.directory.filter((u) => u.role === "operator");

  const body = el("section", { class: "card" });
  const kindSel = el("select", { id: "case-kind", onchange: () => { state.kind = kindSel.value; reload(); } },
    el("option", { value: "" }, t("Every routine")), KINDS.map((k) => el("option", { value: k }, t(k))));
  const whoSel = el("select", { id: "case-assignee", onchange: () => { state.assignee = whoSel.value; reload(); } },
    el("option", { value: "" }, t("Anyone")), operators.map((u) => el("option", { value: u.id }, u.full_name)));

  main.append(
    pageHead(t(TITLE[status]), t(LEAD[status]),
      el("nav", { class: "subtabs" }, CASE_STATES.map(([s]) => el("a", {
        href: `#cases/${s}`, class: `button pill${s === status ? " active" : ""}`, "data-state": s }, label(s))))),
    el("div", { class: "toolbar" }, field(t("Routine"), kindSel), field(t("Assigned to"), whoSel), el("div", { class: "grow" })),
    body);

  async function reload() {
    const q = new URLSearchParams({ status });
    if (state.kind) q.set("kind", state.kind);
    if (state.assignee) q.set("assignee_id", state.assignee);
    state.rows = await api("GET", `/api/v1/cases?${q}`);
    state.selected = new Set([...state.selected].filter((id) => state.rows.some((r) => r.id === id)));
    await suggest();
    paint();
  }

  // The suggestion follows the routine of what is selected (or of the filter).
  async function suggest() {
    if (!ctx.isAdmin) return;
    const kinds = new Set(state.rows.filter((r) => state.selected.has(r.id)).map((r) => r.kind));
    const kind = kinds.size === 1 ? [...kinds][0] : state.kind;
    state.suggestion = await api("GET", `/api/v1/cases/suggestion${kind ? `?kind=${kind}` : ""}`);
  }

  function toggle(id, on) {
    if (on) state.selected.add(id); else state.selected.delete(id);
    act(async () => { await suggest(); paint(); });
  }

  function assignBar() {
    if (!ctx.isAdmin) return el("div", { class: "muted small" }, t("Only admins assign cases."));
    const n = state.selected.size;
    const best = state.suggestion[0];
    const to = el("select", { id: "assign-to", name: "operator_id" },
      el("option", { value: "" }, t("Choose an operator…")),
      state.suggestion.map((o, i) => el("option", { value: o.operator_id },
        `${t("{name} — {open} open, load {load}", { name: o.username, open: o.open_cases, load: o.weighted_load })}${i === 0 ? ` ${t("(suggested)")}` : ""}`)));
    const useBest = el("button", { type: "button", id: "use-suggestion", disabled: !best, onclick: () => { to.value = String(best.operator_id); } }, t("Use suggestion"));
    const go = el("button", { type: "button", class: "primary", id: "assign-go", disabled: !n, onclick: () => act(async () => {
      if (!to.value) { toast(t("Choose who takes the cases"), true); return; }
      const done = await api("POST", "/api/v1/cases/assign", { case_ids: [...state.selected], operator_id: Number(to.value) });
      toast(t("{n} case(s) assigned to {name}", { n: done.length, name: done[0].assignee }));
      state.selected.clear();
      await reload();
      ctx.refreshCounts();
    }) }, status === "active" ? t("Assign") : t("Reassign"));
    const move = el("select", { id: "move-to" }, el("option", { value: "" }, t("Move to…")),
      CASE_STATES.filter(([s]) => s !== status).map(([s]) => el("option", { value: s }, label(s))));
    const moveGo = el("button", { type: "button", id: "move-go", disabled: !n, onclick: () => act(async () => {
      if (!move.value) { toast(t("Choose the new state"), true); return; }
      for (const id of state.selected) await api("POST", `/api/v1/cases/${id}/status`, { status: move.value });
      toast(t("{n} case(s) moved to {state}", { n, state: label(move.value).toLowerCase() }));
      state.selected.clear();
      await reload();
      ctx.refreshCounts();
    }) }, t("Apply"));
    return el("div", { class: "assign-bar", id: "assign-bar" },
      el("div", { class: "suggestion" }, n ? el("b", { class: "selected-count" }, t("{n} selected", { n })) : el("span", { class: "muted" }, t("Select cases to assign or move them.")),
        best ? el("span", { class: "muted", id: "suggested" }, t("Balancing suggestion: {name}, the lightest load ({open} open, weighted {load})", { name: best.username, open: best.open_cases, load: best.weighted_load })) : null),
      el("div", { class: "assign-controls" }, field(t("Assign to"), to), useBest, go),
      el("div", { class: "assign-controls" }, field(t("Change state"), move), moveGo));
  }

  function paint() {
    const allOn = state.rows.length > 0 && state.rows.every((r) => state.selected.has(r.id));
    const columns = [
      ...(ctx.isAdmin ? [[el("input", { type: "checkbox", "aria-label": t("Select all"), checked: allOn, onchange: (e) => {
        for (const r of state.rows) { if (e.target.checked) state.selected.add(r.id); else state.selected.delete(r.id); }
        act(async () => { await suggest(); paint(); });
      } }), (r) => el("input", { type: "checkbox", "aria-label": t("Select case {id}", { id: r.id }), checked: state.selected.has(r.id), onchange: (e) => toggle(r.id, e.target.checked) }), "check"]] : []),
      [t("Case"), (r) => el("span", {}, el("b", {}, `#${r.id}`), el("div", { class: "sub" }, t(r.kind)))],
      [t("Customer"), (r) => el("span", {}, el("b", {}, r.customer_name), el("div", { class: "sub" }, r.customer_code))],
      [t("Subject"), (r) => r.subject || "—"],
      [t("Operator"), (r) => r.assignee || el("span", { class: "muted" }, t("nobody"))],
      [t("State"), (r) => el("span", { class: `chip case-${r.status}` }, caseState(r.status))],
      [t("Updated"), (r) => when(r.updated_at)],
    ];
    body.replaceChildren(
      el("div", { class: "assign" }, assignBar(),
        table(columns, state.rows, {
          id: "cases-table",
          empty: t("No cases in this state."),
          rowAttrs: (r) => ({ "data-case": r.id, class: state.selected.has(r.id) ? "selected" : "" }),
        }),
        state.rows.length >= 200 ? el("div", { class: "count-note" }, t("Showing the newest 200; filter by routine or operator to see others.")) : null));
  }

  await reload();
}
