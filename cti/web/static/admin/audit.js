// The audit log (LGPD): who did what to which record, and when. Search by actor, action, subject
// (a trailing * matches a prefix) and a date range; older lines page in.
import { api, el, when } from "../js/api.js";
import { t } from "../js/i18n.js";
import { act, pageHead, table, field } from "./ui.js";

const PAGE = 100;

// A line's details as a person reads them: one "name value" row each (a list's items joined).
function details(found) {
  const keys = Object.keys(found || {});
  if (!keys.length) return "";
  return el("dl", { class: "audit-details" }, ...keys.flatMap((key) => [el("dt", {}, key), el("dd", {}, shown(found[key]))]));
}

function shown(value) {
  if (Array.isArray(value)) return value.map(shown).join(", ");
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export default async function audit(main) {
  const state = { rows: [], more: false };
  const form = el("form", { class: "toolbar card", id: "audit-form" },
    field(t("Actor"), el("input", { name: "actor", placeholder: t("user name") })),
    field(t("Action"), el("input", { name: "action", placeholder: "user.* / personal.*" })),
    field(t("Subject"), el("input", { name: "subject", placeholder: "customer:* / user:12" })),
    field(t("Since"), el("input", { name: "since", type: "date" })),
    field(t("Until"), el("input", { name: "until", type: "date" })),
    el("div", { class: "grow" }),
    el("button", { type: "submit", class: "primary", id: "audit-go" }, t("Search")));
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
      el("div", { class: "card-head" }, el("h2", {}, t("Lines")), el("span", { class: "muted small" }, t("{n} found, newest first", { n: `${state.rows.length}${state.more ? "+" : ""}` }))),
      table([
        [t("When"), (r) => when(r.at)],
        [t("Actor"), (r) => el("b", {}, r.actor || "—")],
        [t("Action"), (r) => el("span", { class: "code" }, r.action)],
        [t("Subject"), (r) => r.subject || "—"],
        [t("Details"), (r) => details(r.details)],
      ], state.rows, { id: "audit-table", empty: t("No line matches."), rowAttrs: (r) => ({ "data-action": r.action }) }),
      ...(state.more ? [el("div", { class: "form-foot" }, el("button", { type: "button", id: "audit-more", onclick: () => act(() => search(true)) }, t("Older lines")))] : []));
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); act(() => search()); });
  main.append(pageHead(t("Audit log"), t("Every read of personal data, every refusal, export and change, as it happened.")), form, results);
  await search();
}
