// Cases by state (Activos, Asignados, Suspendidos, Morosos, Retirados, Cerrados): admins assign
// and reassign the selected cases, helped by the balancing suggestion, and move them between states.
import { api, el, when } from "../js/api.js";
import { CASE_LABEL, CASE_STATES } from "../js/inbox.js";
import { act, pageHead, table, toast, field } from "./ui.js";

const LEAD = {
  active: "Open cases nobody works yet: assign them.",
  assigned: "Cases an operator is working. Reassign to balance the load.",
  suspended: "Cases on hold for now.",
  delinquent: "Collection cases of customers in arrears.",
  withdrawn: "Cases taken out of the work.",
  closed: "Finished cases, kept for the record.",
};
const KINDS = ["telemarketing", "telesales", "collection"];

export default async function cases(main, ctx, arg) {
  const status = CASE_STATES.some(([s]) => s === arg) ? arg : "active";
  const state = { kind: "", assignee: "", rows: [], selected: new Set(), suggestion: [] };
  const operators = ctx.lists.directory.filter((u) => u.role === "operator");

  const body = el("section", { class: "card" });
  const kindSel = el("select", { id: "case-kind", onchange: () => { state.kind = kindSel.value; reload(); } },
    el("option", { value: "" }, "Every routine"), KINDS.map((k) => el("option", { value: k }, k)));
  const whoSel = el("select", { id: "case-assignee", onchange: () => { state.assignee = whoSel.value; reload(); } },
    el("option", { value: "" }, "Anyone"), operators.map((u) => el("option", { value: u.id }, u.full_name)));

  main.append(
    pageHead(`${CASE_LABEL[status]} cases`, LEAD[status],
      el("nav", { class: "subtabs" }, CASE_STATES.map(([s, label]) => el("a", {
        href: `#cases/${s}`, class: `button pill${s === status ? " active" : ""}`, "data-state": s }, label)))),
    el("div", { class: "toolbar" }, field("Routine", kindSel), field("Assigned to", whoSel), el("div", { class: "grow" })),
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
    if (!ctx.isAdmin) return el("div", { class: "muted small" }, "Only admins assign cases.");
    const n = state.selected.size;
    const best = state.suggestion[0];
    const to = el("select", { id: "assign-to", name: "operator_id" },
      el("option", { value: "" }, "Choose an operator…"),
      state.suggestion.map((o, i) => el("option", { value: o.operator_id },
        `${o.username} — ${o.open_cases} open, load ${o.weighted_load}${i === 0 ? " (suggested)" : ""}`)));
    const useBest = el("button", { type: "button", id: "use-suggestion", disabled: !best, onclick: () => { to.value = String(best.operator_id); } }, "Use suggestion");
    const go = el("button", { type: "button", class: "primary", id: "assign-go", disabled: !n, onclick: () => act(async () => {
      if (!to.value) { toast("Choose who takes the cases", true); return; }
      const done = await api("POST", "/api/v1/cases/assign", { case_ids: [...state.selected], operator_id: Number(to.value) });
      toast(`${done.length} case(s) assigned to ${done[0].assignee}`);
      state.selected.clear();
      await reload();
      ctx.refreshCounts();
    }) }, status === "active" ? "Assign" : "Reassign");
    const move = el("select", { id: "move-to" }, el("option", { value: "" }, "Move to…"),
      CASE_STATES.filter(([s]) => s !== status).map(([s, label]) => el("option", { value: s }, label)));
    const moveGo = el("button", { type: "button", id: "move-go", disabled: !n, onclick: () => act(async () => {
      if (!move.value) { toast("Choose the new state", true); return; }
      for (const id of state.selected) await api("POST", `/api/v1/cases/${id}/status`, { status: move.value });
      toast(`${n} case(s) moved to ${CASE_LABEL[move.value].toLowerCase()}`);
      state.selected.clear();
      await reload();
      ctx.refreshCounts();
    }) }, "Apply");
    return el("div", { class: "assign-bar", id: "assign-bar" },
      el("div", { class: "suggestion" }, n ? el("b", { class: "selected-count" }, `${n} selected`) : el("span", { class: "muted" }, "Select cases to assign or move them."),
        best ? el("span", { class: "muted", id: "suggested" }, `Balancing suggestion: ${best.username}, the lightest load (${best.open_cases} open, weighted ${best.weighted_load})`) : null),
      el("div", { class: "assign-controls" }, field("Assign to", to), useBest, go),
      el("div", { class: "assign-controls" }, field("Change state", move), moveGo));
  }

  function paint() {
    const allOn = state.rows.length > 0 && state.rows.every((r) => state.selected.has(r.id));
    const columns = [
      ...(ctx.isAdmin ? [[el("input", { type: "checkbox", "aria-label": "Select all", checked: allOn, onchange: (e) => {
        for (const r of state.rows) { if (e.target.checked) state.selected.add(r.id); else state.selected.delete(r.id); }
        act(async () => { await suggest(); paint(); });
      } }), (r) => el("input", { type: "checkbox", "aria-label": `Select case ${r.id}`, checked: state.selected.has(r.id), onchange: (e) => toggle(r.id, e.target.checked) }), "check"]] : []),
      ["Case", (r) => el("span", {}, el("b", {}, `#${r.id}`), el("div", { class: "sub" }, r.kind))],
      ["Customer", (r) => el("span", {}, el("b", {}, r.customer_name), el("div", { class: "sub" }, r.customer_code))],
      ["Subject", (r) => r.subject || "—"],
      ["Operator", (r) => r.assignee || el("span", { class: "muted" }, "nobody")],
      ["State", (r) => el("span", { class: `chip case-${r.status}` }, CASE_LABEL[r.status])],
      ["Updated", (r) => when(r.updated_at)],
    ];
    body.replaceChildren(
      el("div", { class: "assign" }, assignBar(),
        table(columns, state.rows, {
          id: "cases-table",
          empty: `No ${CASE_LABEL[status].toLowerCase()} cases.`,
          rowAttrs: (r) => ({ "data-case": r.id, class: state.selected.has(r.id) ? "selected" : "" }),
        }),
        state.rows.length >= 200 ? el("div", { class: "count-note" }, "Showing the newest 200; filter by routine or operator to see others.") : null));
  }

  await reload();
}
