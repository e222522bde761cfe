// The audit log (LGPD): who did what to which record, and when. Search by actor, action, subject
// (a trailing * matches a prefix) and a date range; older lines page in.
import { api, el, when } from "../js/api.js";
import { act, pageHead, table, field } from "./ui.js";

const PAGE = 100;

export default async function audit(main) {
  const state = { rows: [], more: false };
  const form = el("form", { class: "toolbar card", id: "audit-form" },
    field("Actor", el("input", { name: "actor", placeholder: "user name" })),
    field("Action", el("input", { name: "action", placeholder: "user.* or personal.*" })),
    field("Subject", el("input", { name: "subject", placeholder: "customer:* or user:12" })),
    field("Since", el("input", { name: "since", type: "date" })),
    field("Until", el("input", { name: "until", type: "date" })),
    el("div", { class: "grow" }),
    el("button", { type: "submit", class: "primary", id: "audit-go" }, "Search"));
  const results = el("section", { class: "card" });

  function query(before) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const name of ["actor", "action", "subject", "since"]) if (form.elements[name].value.trim()) q.set(name, form.elements[name].value.trim());
    // "Until" is inclusive for people: up to the end of that day.
    const until = form.elements.until.value;
    if (until) { const d = new Date(`${until}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1); q.set("until", d.toISOString().slice(0, 10)); }
    if (before) q.set("before_id", String(before));
    return q;
  }

  async function search(more = false) {
    const before = more && state.rows.length ? state.rows[state.rows.length - 1].id : null;
    const rows = await api("GET", `/api/v1/audit?${query(before)}`);
    state.rows = more ? [...state.rows, ...rows] : rows;
    state.more = rows.length === PAGE;
    paint();
  }

  function paint() {
    results.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, "Lines"), el("span", { class: "muted small" }, `${state.rows.length}${state.more ? "+" : ""} found, newest first`)),
      table([
        ["When", (r) => when(r.at)],
        ["Actor", (r) => el("b", {}, r.actor || "—")],
        ["Action", (r) => el("span", { class: "code" }, r.action)],
        ["Subject", (r) => r.subject || "—"],
        ["Details", (r) => el("div", { class: "audit-details" }, Object.keys(r.details || {}).length ? JSON.stringify(r.details) : "")],
      ], state.rows, { id: "audit-table", empty: "No line matches.", rowAttrs: (r) => ({ "data-action": r.action }) }),
      ...(state.more ? [el("div", { class: "form-foot" }, el("button", { type: "button", id: "audit-more", onclick: () => act(() => search(true)) }, "Older lines"))] : []));
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); act(() => search()); });
  main.append(pageHead("Audit log", "Every read of personal data, every refusal, export and change, as it happened."), form, results);
  await search();
}
