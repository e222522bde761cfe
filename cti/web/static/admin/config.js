// Configuration (admins change it; supervisors read it): closing reasons, pause reasons, attention
// groups with their ideal talk time, message situations and types, attention-status labels and the
// fields each form requires.
import { api, el, showError, clearErrors } from "../js/api.js";
import { t, N_ } from "../js/i18n.js";
import { act, pageHead, toast } from "./ui.js";

const KINDS = ["telemarketing", "telesales", "collection"];

// Each table: its key, its columns [name, label, kind], and whether rows are keyed by a code.
const TABLES = {
  "closing-reasons": { title: N_("Closing reasons"), lead: N_("Why an attention was closed; a reason may belong to one routine."),
    cols: [["name", N_("Name"), "text"], ["kind", N_("Routine"), "kind"], ["active", N_("In use"), "bool"]] },
  "pause-reasons": { title: N_("Pause reasons"), lead: N_("What an agent may pick when pausing (and a supervisor when pausing an agent)."),
    cols: [["name", N_("Name"), "text"], ["active", N_("In use"), "bool"]] },
  "attention-groups": { title: N_("Attention groups"), lead: N_("The ideal talk time turns the desk's timer red; the group may be granted personal data. After a call the agent is in wrap-up (no queue call offered) until they save the attention with a status (and a closing reason, if the group asks) or the maximum wrap-up time ends it (empty: no limit). An agent who lets that many queue calls in a row ring out is paused, so that callers go to their colleagues (empty: never)."),
    cols: [["name", N_("Name"), "text"], ["ideal_talk_seconds", N_("Ideal talk time (s)"), "int"], ["personal_data", N_("Personal data"), "bool"],
      ["wrapup_needs", N_("Wrap-up ends with"), "needs"], ["max_wrapup_seconds", N_("Max wrap-up (s)"), "int"],
      ["pause_after_missed", N_("Pause after missed calls"), "int"]] },
  "message-situations": { title: N_("Message situations"), lead: N_("Two-character codes; a pending one keeps a message in the lists; one may be the usual pending."),
    code: true, cols: [["name", N_("Name"), "text"], ["pending", N_("Pending"), "bool"], ["usual_pending", N_("Usual pending"), "bool"]] },
  "message-types": { title: N_("Message types"), lead: N_("Two-character codes classifying incoming calls; one may be the default."),
    code: true, cols: [["name", N_("Name"), "text"], ["is_default", N_("Default"), "bool"]] },
  "ticket-subjects": { title: N_("Ticket subjects"), lead: N_("Telemarketing tickets: what an item is about (Assunto)."),
    cols: [["name", N_("Name"), "text"], ["active", N_("In use"), "bool"]] },
  "ticket-occurrences": { title: N_("Ticket occurrences"), lead: N_("What happened, for each subject (Ocorrência)."),
    cols: [["subject_id", N_("Subject"), "ref:ticket-subjects"], ["name", N_("Name"), "text"], ["active", N_("In use"), "bool"]] },
  "ticket-actions": { title: N_("Ticket actions"), lead: N_("What is done about an occurrence (Ação): the status it sets on the item's child ticket when the attention is confirmed (never on the attention itself), and whether it opens a service order or raises a potential non-conformity (with telemarketing.nonconformity_integration on)."),
    cols: [["occurrence_id", N_("Occurrence"), "ref:ticket-occurrences"], ["name", N_("Name"), "text"], ["sets_status", N_("Sets status"), "ticket-status"],
      ["service_order", N_("Service order"), "bool"], ["nonconformity", N_("Non-conformity"), "bool"], ["active", N_("In use"), "bool"]] },
  "attention-statuses": { title: N_("Attention statuses"), lead: N_("The label each attention status shows.") },
  "required-fields": { title: N_("Required fields"), lead: N_("What must be filled before a form can be saved.") },
};

const TICKET_STATUSES = [["open", N_("Open")], ["in_progress", N_("In progress")], ["done", N_("Done")]];

// refs: for a "ref:<table>" column, that table's rows as [id, label].
function input(kind, name, value, disabled, refs = {}) {
  if (kind.startsWith("ref:")) return el("select", { name, disabled }, el("option", { value: "" }, "—"),
    (refs[kind] || []).map(([id, label]) => el("option", { value: id, selected: value === id }, label)));
  if (kind === "ticket-status") return el("select", { name, disabled },
    TICKET_STATUSES.map(([v, label]) => el("option", { value: v, selected: value === v }, t(label))));
  if (kind === "bool") return el("input", { type: "checkbox", name, checked: !!value, disabled, "aria-label": name });
  if (kind === "kind") return el("select", { name, disabled }, el("option", { value: "" }, t("any routine")),
    KINDS.map((k) => el("option", { value: k, selected: value === k }, t(k))));
  if (kind === "needs") return el("select", { name, disabled },
    el("option", { value: "status", selected: value !== "reason" }, t("a status")),
    el("option", { value: "reason", selected: value === "reason" }, t("a status and a closing reason")));
  if (kind === "int") return el("input", { type: "number", name, value: value ?? "", min: 1, disabled });
  return el("input", { name, value: value ?? "", disabled });
}

function read(row, cols) {
  const out = {};
  for (const [name, , kind] of cols) {
    const node = row.querySelector(`[name="${name}"]`);
    if (kind === "bool") out[name] = node.checked;
    else if (kind === "int") out[name] = node.value === "" ? null : Number(node.value);
    else if (kind === "kind") out[name] = node.value || null;
    else if (kind === "needs" || kind === "ticket-status") out[name] = node.value;
    else if (kind.startsWith("ref:")) out[name] = node.value ? Number(node.value) : null;
    else out[name] = node.value.trim();
  }
  return out;
}

// The rows a "ref:" column chooses from, labelled (an occurrence with its subject's name).
async function loadRefs(cols) {
  const refs = {};
  const kinds = cols.map(([, , kind]) => kind).filter((k) => k.startsWith("ref:"));
  for (const kind of kinds) {
    const rows = await api("GET", `/api/v1/config/${kind.slice(4)}`);
    if (kind === "ref:ticket-occurrences") {
      const subjects = new Map((await api("GET", "/api/v1/config/ticket-subjects")).map((s) => [s.id, s.name]));
      refs[kind] = rows.map((r) => [r.id, `${subjects.get(r.subject_id) || "?"} › ${r.name}`]);
    } else refs[kind] = rows.map((r) => [r.id, r.name]);
  }
  return refs;
}

async function tableEditor(box, ctx, name) {
  const spec = TABLES[name];
  const rows = await api("GET", `/api/v1/config/${name}`);
  const refs = await loadRefs(spec.cols);
  const ro = !ctx.isAdmin;
  const error = el("div", { class: "error", id: "config-error" });
  const path = `/api/v1/config/${name}`;
  const reload = () => tableEditor(box, ctx, name);
  const save = (tr, fn) => act(async () => { clearErrors(tr); error.textContent = ""; await fn(); toast(t("Saved")); await reload(); },
    (e) => showError(tr, e, error));

  const head = el("tr", {}, spec.code ? el("th", {}, t("Code")) : null, spec.cols.map(([, label, kind]) => el("th", { class: kind === "int" ? "num" : "" }, t(label))), ro ? null : el("th", {}, ""));
  const body = rows.map((r) => {
    const key = spec.code ? r.code : r.id;
    const tr = el("tr", { "data-row": key, "data-name": r.name, class: r.active === false && "retired", title: r.active === false ? t("Retired: no longer offered") : null });
    tr.append(spec.code ? el("td", {}, el("span", { class: "code" }, r.code)) : "",
      ...spec.cols.map(([col, , kind]) => el("td", { class: kind === "int" ? "num" : "" }, el("label", {}, input(kind, col, r[col], ro, refs)))));
    if (!ro) {
      tr.append(el("td", { class: "num" },
        el("button", { type: "button", class: "row-save", onclick: () => save(tr, () => api(spec.code ? "PUT" : "PATCH", `${path}/${key}`, read(tr, spec.cols))) }, t("Save")),
        spec.code ? el("button", { type: "button", class: "ghost", onclick: () => save(tr, () => api("DELETE", `${path}/${key}`)) }, t("Remove")) : null));
    }
    return tr;
  });
  let add = null;
  if (!ro) {
    const code = spec.code ? el("input", { name: "code", maxlength: 2, placeholder: "XX", size: 3 }) : null;
    add = el("tr", { class: "new-row", id: "config-new" },
      spec.code ? el("td", {}, el("label", {}, code)) : null,
      spec.cols.map(([col, , kind]) => el("td", { class: kind === "int" ? "num" : "" }, el("label", {}, input(kind, col, kind === "bool" ? col === "active" || col === "pending" : null, false, refs)))),
      el("td", { class: "num" }, el("button", { type: "button", class: "primary", id: "config-add", onclick: () => save(add, () => {
        const values = read(add, spec.cols);
        if (spec.code) {
          const c = code.value.trim().toUpperCase();
          if (c.length !== 2) throw Object.assign(new Error(t("a code has exactly two characters")), { field: "code" });
          return api("PUT", `${path}/${c}`, values);
        }
        return api("POST", path, values);
      }) }, t("Add"))));
    const first = add.querySelector("input[name=name]");
    if (first) first.placeholder = t("New…");
  }
  box.replaceChildren(
    el("table", { class: "data inline-edit", id: "config-table" }, el("thead", {}, head), el("tbody", {}, body, add)),
    error, ...(ro ? [el("div", { class: "muted small" }, t("Only admins change the configuration."))] : []));
}

async function statusLabels(box, ctx) {
  const rows = await api("GET", "/api/v1/config/attention-statuses");
  const error = el("div", { class: "error" });
  box.replaceChildren(el("table", { class: "data inline-edit", id: "config-table" },
    el("thead", {}, el("tr", {}, el("th", {}, t("Status")), el("th", {}, t("Label")), el("th", {}, ""))),
    el("tbody", {}, rows.map((r) => {
      const label = el("input", { name: "label", value: r.label, disabled: !ctx.isAdmin });
      const tr = el("tr", { "data-row": r.status }, el("td", {}, el("span", { class: "code" }, r.status)), el("td", {}, el("label", {}, label)),
        el("td", { class: "num" }, ctx.isAdmin ? el("button", { type: "button", onclick: () => act(async () => {
          await api("PUT", `/api/v1/config/attention-statuses/${r.status}`, { label: label.value.trim() });
          toast(t("Saved"));
        }, (e) => showError(tr, e, error)) }, t("Save")) : null));
      return tr;
    }))), error);
}

async function requiredFields(box, ctx) {
  const forms = await api("GET", "/api/v1/config/required-fields");
  box.replaceChildren(...Object.entries(forms).map(([form, { fields, required, title, labels }]) => {
    // Named as the forms label them ("Closing reason"), not by their API names.
    const checks = fields.map((f) => el("label", { class: "check", title: f }, el("input", { type: "checkbox", name: f, checked: required.includes(f), disabled: !ctx.isAdmin }), t(labels[f] || f)));
    const card = el("div", { class: "card", "data-form": form, style: "box-shadow:none;border:1px solid var(--line)" },
      el("div", { class: "card-head" }, el("h2", {}, t(title || form)),
        ctx.isAdmin ? el("button", { type: "button", onclick: () => act(async () => {
          const chosen = [...card.querySelectorAll("input:checked")].map((i) => i.name);
          await api("PUT", `/api/v1/config/required-fields/${form}`, { fields: chosen });
          toast(t("Required on the {form} form: {fields}", { form: t(title || form).toLowerCase(), fields: chosen.map((f) => t(labels[f] || f)).join(", ") || t("nothing") }));
        }) }, t("Save")) : null),
      el("div", { class: "fields-grid" }, checks));
    return card;
  }));
  box.style.display = "grid";
  box.style.gap = "12px";
}

export default async function config(main, ctx, arg) {
  const name = TABLES[arg] ? arg : "closing-reasons";
  const spec = TABLES[name];
  const box = el("div", { id: "config-body" });
  main.append(
    pageHead(t("Configuration"), t("Reasons, descriptions, states and required fields the call center works with.")),
    el("nav", { class: "subtabs", id: "config-tabs" }, Object.entries(TABLES).map(([key, table]) => el("a", {
      href: `#config/${key}`, class: `button pill${key === name ? " active" : ""}`, "data-table": key }, t(table.title)))),
    el("section", { class: "card" }, el("div", { class: "card-head" }, el("h2", {}, t(spec.title))), el("p", { class: "muted", style: "margin:0 0 12px" }, t(spec.lead)), box));
  if (name === "attention-statuses") await statusLabels(box, ctx);
  else if (name === "required-fields") await requiredFields(box, ctx);
  else await tableEditor(box, ctx, name);
}
