// Incoming-call messages (seed 004) and "my cases": the desk's inbox drawer, and the message card
// the back office shares. A message stays pending until finalized (or an action is made from it);
// postponing moves it to a new date and time with a reason, for a user or a group.
import { api, ApiError, el, when, showError, clearErrors } from "./api.js";
import { t, N_ } from "./i18n.js";

const CASE_STATES = [
  ["active", N_("Active")], ["assigned", N_("Assigned")], ["suspended", N_("Suspended")],
  ["delinquent", N_("Delinquent")], ["withdrawn", N_("Withdrawn")], ["closed", N_("Closed|cases")],
];
export const CASE_LABEL = Object.fromEntries(CASE_STATES);
export { CASE_STATES };
// One case's state, on its chip: the lists above are named in the plural ("Ativos"), a case is
// "Ativo".
const CASE_STATE = {
  active: N_("Active|case"), assigned: N_("Assigned|case"), suspended: N_("Suspended|case"),
  delinquent: N_("Delinquent|case"), withdrawn: N_("Withdrawn|case"), closed: N_("Closed|case"),
};
export const caseState = (s) => (CASE_STATE[s] ? t(CASE_STATE[s]) : s);

// What the message forms offer: users, groups, situations, types (loaded once per page).
export async function messageLists() {
  const [directory, groups, situations, types] = await Promise.all([
    api("GET", "/api/v1/users/directory"),
    api("GET", "/api/v1/config/attention-groups"),
    api("GET", "/api/v1/config/message-situations"),
    api("GET", "/api/v1/config/message-types"),
  ]);
  return { directory, groups, situations, types };
}

// Who called, in a few words (the first of customer, contact, phone, tax id, serial, code).
export function fromText(m) {
  const parts = [];
  if (m.customer) parts.push(`${m.customer.name}${m.customer.code ? ` (${m.customer.code})` : ""}`);
  if (m.contact) parts.push(m.contact.name);
  if (m.from_phone) parts.push(m.from_phone);
  if (m.from_tax_id) parts.push(t("tax id {value}", { value: m.from_tax_id }));
  if (m.from_serial) parts.push(t("serial {value}", { value: m.from_serial }));
  if (m.from_code) parts.push(t("code {value}", { value: m.from_code }));
  return parts.join(" · ") || "—";
}

export function toText(m, lists) {
  if (m.to_user) return m.to_user_name || m.to_user;
  const g = lists.groups.find((x) => x.id === m.to_group_id);
  if (g) return t("group {name}", { name: g.name });
  return m.to_group_id ? t("group {name}", { name: `#${m.to_group_id}` }) : "—";
}

// A <select> of users and groups; values "u:ID" / "g:ID".
export function recipientSelect(lists, name, selected) {
  return el("select", { name, id: name },
    el("optgroup", { label: t("Users") }, lists.directory.map((u) => el("option", {
      value: `u:${u.id}`, selected: selected === `u:${u.id}`,
    }, `${u.full_name} (${u.username})`))),
    el("optgroup", { label: t("Groups") }, lists.groups.map((g) => el("option", {
      value: `g:${g.id}`, selected: selected === `g:${g.id}`,
    }, t("group {name}", { name: g.name })))));
}

export function recipient(value) {
  const [kind, id] = value.split(":");
  return kind === "u" ? { to_user_id: Number(id), to_group_id: null } : { to_user_id: null, to_group_id: Number(id) };
}

function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function messageChip(m) {
  if (!m.pending) return el("span", { class: "chip ok" }, t("finalized"));
  if (m.postponed_until && new Date(m.postponed_until) > new Date()) return el("span", { class: "chip warn" }, t("postponed until {when}", { when: when(m.postponed_until) }));
  return el("span", { class: "chip" }, m.situation || m.situation_code);
}

// The card of one message: stamps, from, to, description, notes (add), finalize, postpone and,
// where `canEdit`, a situation change (which never finalizes). `changed(m)` gets the fresh message.
export function messageCard(m, lists, { toast, changed, canEdit = false }) {
  const error = el("div", { class: "error", id: "msg-error" });
  const root = el("div", { class: "msg-card", "data-message": m.id });
  const run = async (fn, okText) => {
    clearErrors(root); error.textContent = "";
    try {
      const fresh = await fn();
      if (okText) toast(okText);
      changed(fresh);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { location.href = "/static/index.html"; return; }
      showError(root, e, error);
    }
  };

  const stamps = el("dl", { class: "msg-meta" },
    el("dt", {}, t("Received")), el("dd", {}, t("{when} by {name}", { when: when(m.created_at), name: m.created_by_name || "—" })),
    el("dt", {}, t("From")), el("dd", { class: "msg-from" }, fromText(m)),
    el("dt", {}, t("To")), el("dd", { class: "msg-to" }, toText(m, lists)),
    el("dt", {}, t("Situation")), el("dd", {}, `${m.situation_code} · ${m.situation || ""}`),
    el("dt", {}, t("Type")), el("dd", {}, m.type ? `${m.type} (${m.type_code})` : m.type_code || "—"),
    m.postponed_until ? [el("dt", {}, t("Postponed")), el("dd", {}, [t("until {when}", { when: when(m.postponed_until) }), m.postpone_reason ? ` — ${m.postpone_reason}` : ""].join(""))] : null,
    m.finalized_at ? [el("dt", {}, t("Finalized")), el("dd", {}, t("{when} by {name}", { when: when(m.finalized_at), name: m.finalized_by_name || "—" }))] : null,
  );

  const notes = el("div", { class: "notes", id: "msg-notes" }, m.notes.length
    ? m.notes.map((n) => el("div", { class: "note" }, el("div", { class: "meta" }, `${n.author_name || n.author} · ${when(n.at)}`), el("div", {}, n.text)))
    : el("div", { class: "muted small" }, t("No notes yet.")));
  const noteText = el("textarea", { name: "text", id: "msg-note", rows: 2, placeholder: t("Add a note (date, time and your name are stamped)") });
  const addNote = el("button", { type: "button", id: "msg-note-add", onclick: () => run(async () => {
    const text = noteText.value.trim();
    if (!text) throw new ApiError(400, { error: "write the note first", field: "text" });
    return api("POST", `/api/v1/messages/${m.id}/notes`, { text });
  }, t("Note added")) }, t("Add note"));

  root.append(
    el("div", { class: "msg-head" }, el("b", {}, t("Message #{id}", { id: m.id })), messageChip(m)),
    el("p", { class: "msg-desc" }, m.description),
    stamps,
    el("h3", {}, t("Notes")), notes,
    el("label", { class: "msg-note-box" }, noteText), el("div", { class: "form-foot" }, addNote),
  );

  if (m.pending) {
    const closing = lists.situations.filter((s) => !s.pending);
    const finalSel = el("select", { name: "situation_code", id: "finalize-situation" },
      closing.map((s) => el("option", { value: s.code }, `${s.code} · ${s.name}`)));
    const finalize = el("button", { type: "button", class: "good", id: "msg-finalize", onclick: () => run(
      () => api("POST", `/api/v1/messages/${m.id}/finalize`, { situation_code: finalSel.value || null }), "Message finalized") }, t("Finalize"));

    const soon = new Date(Date.now() + 24 * 3600 * 1000); soon.setMinutes(0, 0, 0);
    const until = el("input", { type: "datetime-local", name: "until", id: "postpone-until", value: localInput(soon) });
    const reason = el("input", { name: "reason", id: "postpone-reason", placeholder: t("Why (customer away, waiting for…)") });
    const current = m.to_user_id ? `u:${m.to_user_id}` : `g:${m.to_group_id}`;
    const to = recipientSelect(lists, "to", current);
    to.id = "postpone-to";
    const postponeForm = el("div", { class: "msg-postpone hidden", id: "postpone-form" },
      el("div", { class: "grid2" }, el("label", {}, t("Until"), until), el("label", {}, t("For"), to)),
      el("label", {}, t("Reason"), reason),
      el("div", { class: "form-foot" }, el("button", { type: "button", class: "primary", id: "postpone-go", onclick: () => run(() => {
        if (!until.value) throw new ApiError(400, { error: "pick a date and time", field: "until" });
        return api("POST", `/api/v1/messages/${m.id}/postpone`, { until: new Date(until.value).toISOString(), reason: reason.value.trim(), ...recipient(to.value) });
      }, t("Message postponed")) }, t("Postpone"))));
    const postpone = el("button", { type: "button", id: "msg-postpone", onclick: () => postponeForm.classList.toggle("hidden") }, t("Postpone…"));

    const actions = el("div", { class: "msg-actions" }, el("label", { class: "inline" }, t("Finalize as"), finalSel), finalize, postpone);
    root.append(el("h3", {}, t("Handle")), actions, postponeForm);

    if (canEdit) {
      const sit = el("select", { name: "situation_code", id: "msg-situation" },
        lists.situations.map((s) => el("option", { value: s.code, selected: s.code === m.situation_code }, `${s.code} · ${s.name}`)));
      root.append(el("div", { class: "msg-actions" }, el("label", { class: "inline" }, t("Situation"), sit),
        el("button", { type: "button", id: "msg-situation-save", onclick: () => run(
          () => api("PATCH", `/api/v1/messages/${m.id}`, { situation_code: sit.value }), "Situation changed (still pending until finalized)") }, t("Change"))));
    }
  }
  root.append(error);
  return root;
}

// --- the desk's inbox drawer ------------------------------------------------------------------

export function mountInbox({ button, count, drawer, user, toast }) {
  const state = { tab: "messages", lists: null, messages: [], cases: [], open: null, caseState: "" };

  function paintCount() {
    const due = state.messages.filter((m) => !m.postponed_until || new Date(m.postponed_until) <= new Date()).length;
    count.textContent = String(state.messages.length);
    count.classList.toggle("hidden", state.messages.length === 0);
    count.classList.toggle("due", due > 0);
    button.title = t("{n} pending message(s) for you or your group, {due} due now", { n: state.messages.length, due });
  }

  async function load() {
    state.lists = state.lists || await messageLists();
    state.messages = await api("GET", "/api/v1/messages?pending=true&mine=true");
    paintCount();
  }

  async function loadCases() {
    const q = state.caseState ? `?status=${state.caseState}` : "";
    state.cases = await api("GET", `/api/v1/cases${q}`);
  }

  function paintMessages(body) {
    if (!state.messages.length) {
      body.append(el("div", { class: "empty" }, t("Nothing pending for you or your group.")));
      return;
    }
    body.append(el("ul", { class: "list inbox-list", id: "inbox-messages" }, state.messages.map((m) => {
      const open = state.open === m.id;
      const item = el("li", { "data-message": m.id, class: open ? "open" : "" },
        el("button", { type: "button", class: "inbox-item", onclick: () => { state.open = open ? null : m.id; paint(); } },
          el("div", { class: "row" }, el("b", {}, fromText(m)), messageChip(m)),
          el("div", { class: "small muted" }, `${when(m.created_at)} · ${t("to {whom}", { whom: toText(m, state.lists) })}`),
          el("div", { class: "inbox-desc" }, m.description)));
      if (open) item.append(messageCard(m, state.lists, { toast, changed: async (fresh) => {
        await load();
        if (!fresh.pending || !state.messages.some((x) => x.id === fresh.id)) state.open = null;
        paint();
      } }));
      return item;
    })));
  }

  function paintCases(body) {
    const filter = el("div", { class: "inbox-filter" }, [["", N_("Open and closed")], ...CASE_STATES].map(([v, label]) =>
      el("button", { type: "button", class: `pill${state.caseState === v ? " active" : ""}`, "data-state": v,
        onclick: async () => { state.caseState = v; await loadCases(); paint(); } }, t(label))));
    body.append(filter);
    if (!state.cases.length) { body.append(el("div", { class: "empty" }, t("No cases here."))); return; }
    body.append(el("ul", { class: "list", id: "inbox-cases" }, state.cases.map((c) => el("li", { "data-case": c.id },
      el("div", { class: "row" }, el("b", {}, c.customer_name || c.customer_code), el("span", { class: `chip case-${c.status}` }, caseState(c.status))),
      el("div", { class: "small" }, c.subject || "—"),
      el("div", { class: "small muted" }, `#${c.id} · ${c.kind} · ${c.customer_code} · ${t("updated {when}", { when: when(c.updated_at) })}`)))));
  }

  function paint() {
    const tabs = el("nav", { class: "tabs" },
      el("button", { type: "button", class: `tab${state.tab === "messages" ? " active" : ""}`, id: "inbox-tab-messages",
        onclick: () => { state.tab = "messages"; paint(); } }, t("Messages ({n})", { n: state.messages.length })),
      el("button", { type: "button", class: `tab${state.tab === "cases" ? " active" : ""}`, id: "inbox-tab-cases",
        onclick: async () => { state.tab = "cases"; await loadCases(); paint(); } }, t("My cases")));
    const body = el("div", { class: "drawer-body" });
    if (state.tab === "messages") paintMessages(body); else paintCases(body);
    drawer.replaceChildren(
      el("div", { class: "drawer-head" }, el("h2", {}, t("Inbox")), el("span", { class: "muted small" }, user.group ? t("you and group {name}", { name: user.group }) : t("for you")),
        el("button", { type: "button", class: "ghost", id: "inbox-close", "aria-label": t("Close"), onclick: toggle }, "✕")),
      tabs, body);
  }

  async function toggle() {
    const opening = drawer.classList.contains("hidden");
    drawer.classList.toggle("hidden", !opening);
    button.classList.toggle("active", opening);
    if (opening) {
      // Between the page's header and its footer, whatever their height.
      const header = button.closest("header");
      const footer = document.querySelector(".footer");
      if (header) drawer.style.top = `${Math.round(header.getBoundingClientRect().bottom)}px`;
      drawer.style.bottom = footer ? `${Math.round(footer.getBoundingClientRect().height)}px` : "0";
      try { await load(); if (state.tab === "cases") await loadCases(); } catch (e) { toast(e.message, true); }
      paint();
    }
  }

  button.addEventListener("click", toggle);
  // Keep the badge fresh without being in the way: once a minute, and when the page is shown.
  const refresh = () => load().then(() => { if (!drawer.classList.contains("hidden") && !drawer.contains(document.activeElement)) paint(); }).catch(() => {});
  refresh();
  setInterval(refresh, 60000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  return { refresh };
}
