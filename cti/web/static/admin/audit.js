// The audit log (LGPD): who did what to which record, and when. Search by actor, action, subject
// (a trailing * matches a prefix) and a date range; older lines page in.
import { api, el, when } from "../js/api.js";
import { t, N_ } from "../js/i18n.js";
import { act, pageHead, table, field } from "./ui.js";

const PAGE = 100;

// What each detail the server writes (cti.db.audit's callers, the personal-data reads, imports)
// is called, in the reader's language. A key not here (an older line's, a newer one's) is shown
// as written; the key itself stays in the label's title, so that the code is still findable.
const KEYS = {
  // Personal data read, masked or exported; searches; imports and report exports.
  purpose: N_("Purpose"), fields: N_("Fields"), attentions: N_("Attentions"), key_id: N_("API key|audit"),
  length: N_("Characters searched"), found: N_("Found"), rows: N_("Rows"), lines: N_("Lines"),
  masked: N_("Masked"), tz: N_("Time zone"), language: N_("Language"),
  // Changes: what a value was and became.
  from: N_("From|period"), to: N_("Until"), reason: N_("Reason"), why: N_("Reason"), problem: N_("Problem"),
  by: N_("How"), until: N_("Until"), version: N_("Version"), renamed: N_("Renamed"),
  // Sign-ins and users.
  ip: N_("IP address"), username: N_("User"), full_name: N_("Full name"), role: N_("Role"),
  routines: N_("Routines"), group: N_("Attention group"), group_id: N_("Attention group"),
  extension: N_("Extension"), interface: N_("Interface"), softphone: N_("Phone in the browser"),
  personal_data: N_("Personal data"),
  // Supervisors listening to and pausing agents; calls and recordings.
  pbx: N_("PBX"), phone: N_("Phone"), target: N_("Channel listened to"), spied_channel: N_("Channel listened to"),
  action_id: N_("PBX action"), supervisor: N_("Supervisor"), outcome: N_("Outcome"), seconds: N_("Duration (s)"),
  deferred: N_("Deferred"), wrapup_released: N_("Wrap-up ended"), agent: N_("Agent"),
  call: N_("Call|audit"), attention: N_("Attention"),
  // Cases, messages, leads, collection, telesales.
  customer_id: N_("Customer"), assignee_id: N_("Assigned to"), to_username: N_("To user"), to_user_id: N_("To user"),
  to_group_id: N_("To group"), from_operator_id: N_("From operator"), to_operator_id: N_("To operator"),
  prospect_id: N_("Prospect"), suspect: N_("Suspect"), policy: N_("Policy"),
  amount: N_("Amount"), promised_on: N_("Promised for"), total: N_("Total"), instalments: N_("Instalments"),
  seq: N_("Instalment"), kept: N_("Promises kept"), invoice: N_("Invoice number"), invoice_number: N_("Invoice number"),
  // Campaigns, their leads, callbacks and do-not-call lists.
  campaign: N_("Campaign"), name: N_("Name"), kind: N_("Routine"), mode: N_("Mode"), queue: N_("Queue"),
  caller_id: N_("Caller id"), ring_seconds: N_("Ring time (s)"), windows: N_("Calling windows"),
  retry_rules: N_("Retry rules"), abandon_cap: N_("Abandon cap"), timezone: N_("Time zone"),
  amd: N_("Answering-machine detection"), record: N_("Record its calls"), script_id: N_("Script"), knobs: N_("Pacing"),
  min_overdue_days: N_("Minimum days overdue"), min_amount: N_("Minimum amount"), today: N_("Date"),
  added: N_("Leads added"), callback: N_("Callback"), due_at: N_("Callback time"), operator: N_("Operator"),
  // Configuration and integrations.
  active: N_("In use"), ideal_talk_seconds: N_("Ideal talk time (s)"), wrapup_needs: N_("Wrap-up ends with"),
  max_wrapup_seconds: N_("Max wrap-up (s)"), pause_after_missed: N_("Pause after missed calls"),
  pending: N_("Pending"), usual_pending: N_("Usual pending"), is_default: N_("Default"), label: N_("Label"),
  subject_id: N_("Subject"), occurrence_id: N_("Occurrence"), sets_status: N_("Sets status"),
  service_order: N_("Service order"), nonconformity: N_("Non-conformity"), events: N_("Events"), scopes: N_("Scopes"),
};

const keyLabel = (key) => (Object.hasOwn(KEYS, key) ? t(KEYS[key]) : key);

// A line's details as a person reads them: one "name value" row each (a list's items joined).
function details(found) {
  const keys = Object.keys(found || {});
  if (!keys.length) return "";
  return el("dl", { class: "audit-details" },
    ...keys.flatMap((key) => [el("dt", { title: key }, keyLabel(key)), el("dd", {}, shown(found[key]))]));
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
