// Telemarketing folder (seed 003): the attention is a ticket; each item is a child ticket with its
// subject, product, occurrence and action (from the back office's catalogues), owner and action
// date. Items added here are confirmed when the attention is saved: each child ticket then takes
// its action's status (never the attention's), and an action may open a service order (Num OS).
import { api, el, day } from "../api.js";
import { t, N_ } from "../i18n.js";

export const STATUS_LABELS = { open: N_("Open"), in_progress: N_("In progress"), done: N_("Done") };
const statusLabel = (s) => (STATUS_LABELS[s] ? t(STATUS_LABELS[s]) : s);

// The catalogues as the config endpoints give them, in use only.
async function catalogue() {
  const [subjects, occurrences, actions] = await Promise.all(
    ["ticket-subjects", "ticket-occurrences", "ticket-actions"].map((name) => api("GET", `/api/v1/config/${name}`)));
  const active = (rows) => rows.filter((r) => r.active);
  return { subjects: active(subjects), occurrences: active(occurrences), actions: active(actions) };
}

function options(rows, label = (r) => r.name) {
  return [el("option", { value: "" }, "—"), ...rows.map((r) => el("option", { value: r.id }, label(r)))];
}

function itemRow(i, pending) {
  const status = pending
    ? el("span", { class: "muted", title: t("set when the attention is saved") }, t("{status} on save", { status: statusLabel(i.sets_status) }))
    : el("span", { class: `ticket-status ${i.status}` }, statusLabel(i.status));
  return el("tr", { "data-item": pending ? "new" : i.number, class: pending ? "pending" : "" },
    el("td", {}, pending ? el("span", { class: "muted" }, t("new")) : el("b", {}, i.number)),
    el("td", {}, i.subject), el("td", {}, i.product || "—"), el("td", {}, i.occurrence), el("td", {}, i.action),
    el("td", {}, i.owner || "—"), el("td", {}, i.action_date ? day(i.action_date) : "—"),
    el("td", { class: "item-status" }, status),
    el("td", { class: "item-os" }, i.service_order ? el("b", {}, i.service_order) : (pending && i.makes_order ? el("span", { class: "muted" }, t("on save")) : "—")));
}

// What an earlier attention recorded as free text, before the catalogues: shown, not edited.
function legacy(a) {
  const parts = [[t("Subject"), a.subject], [t("Product"), a.product], [t("Occurrence"), a.occurrence], [t("Action"), a.action], [t("Action status"), a.action_status]]
    .filter(([, v]) => v);
  if (!parts.length) return null;
  return el("div", { class: "muted small", id: "ticket-legacy" }, t("Recorded as free text: "),
    parts.map(([k, v]) => el("span", {}, el("b", {}, `${k}: `), `${v}. `)));
}

export default {
  routine: "telemarketing",
  title: N_("Telemarketing"),
  render({ attention, lists }) {
    const a = attention || {};
    const pending = [];
    const tbody = el("tbody", {});
    const table = el("table", { id: "ticket-items" },
      el("thead", {}, el("tr", {}, [N_("Ticket"), N_("Subject"), N_("Product"), N_("Occurrence"), N_("Action"), N_("Owner"), N_("Action date"), N_("Status"), N_("Num OS")]
        .map((h) => el("th", {}, t(h))))), tbody);
    const subject = el("select", { name: "item_subject" });
    const occurrence = el("select", { name: "item_occurrence" });
    const action = el("select", { name: "item_action" });
    const product = el("input", { name: "item_product" });
    const owner = el("select", { name: "item_owner" }, el("option", { value: "" }, "—"),
      ...lists.operators.map((o) => el("option", { value: o.id }, o.name)));
    const date = el("input", { name: "item_date", type: "date" });
    const hint = el("div", { class: "muted small", id: "ticket-hint" });
    const node = el("div", { class: "folder", id: "tickets" }, table,
      el("div", { class: "grid3", id: "ticket-new" },
        el("label", {}, t("Subject"), subject), el("label", {}, t("Occurrence"), occurrence), el("label", {}, t("Action"), action),
        el("label", {}, t("Product"), product), el("label", {}, t("Owner"), owner), el("label", {}, t("Action date"), date)),
      el("div", { class: "actions" }, el("button", { type: "button", id: "item-add" }, t("Add item")), hint),
      legacy(a));
    let cat = { subjects: [], occurrences: [], actions: [] };
    const paint = () => {
      const saved = (a.items || []).map((i) => itemRow(i, false));
      tbody.replaceChildren(...saved, ...pending.map((i) => itemRow(i, true)));
      table.classList.toggle("hidden", !saved.length && !pending.length);
    };
    const chosen = () => cat.actions.find((x) => String(x.id) === action.value);
    subject.onchange = () => {
      occurrence.replaceChildren(...options(cat.occurrences.filter((o) => String(o.subject_id) === subject.value)));
      occurrence.onchange();
    };
    occurrence.onchange = () => {
      action.replaceChildren(...options(cat.actions.filter((x) => String(x.occurrence_id) === occurrence.value)));
      action.onchange();
    };
    action.onchange = () => {
      const x = chosen();
      if (x) hint.textContent = `${t("Sets the child ticket to {status}", { status: statusLabel(x.sets_status) })}${x.service_order ? `; ${t("opens a service order")}` : ""}${x.nonconformity ? `; ${t("may raise a non-conformity")}` : ""}`;
      else hint.textContent = subject.value ? t("An item needs its occurrence and action; without them it is not saved.") : "";
    };
    // The row being filled in, as an item (null until its action is chosen).
    node.draft = () => {
      const x = chosen();
      if (!x) return null;
      const name = (rows, id) => rows.find((r) => String(r.id) === String(id))?.name;
      return {
        body: { subject_id: Number(subject.value), occurrence_id: Number(occurrence.value), action_id: x.id,
          product: product.value.trim() || null, owner_id: owner.value ? Number(owner.value) : null, action_date: date.value || null },
        subject: name(cat.subjects, subject.value), occurrence: name(cat.occurrences, occurrence.value), action: x.name,
        product: product.value.trim(), owner: owner.value ? owner.selectedOptions[0].textContent : null,
        action_date: date.value || null, sets_status: x.sets_status, makes_order: x.service_order,
      };
    };
    node.pending = pending;
    node.querySelector("#item-add").onclick = () => {
      const item = node.draft();
      if (!item) { hint.textContent = t("Choose a subject, an occurrence and an action first."); return; }
      pending.push(item);
      product.value = ""; date.value = ""; action.value = ""; action.onchange();
      paint();
    };
    paint();
    catalogue().then((c) => {
      cat = c;
      subject.replaceChildren(...options(c.subjects));
      subject.onchange();
    }).catch(() => { hint.textContent = t("The ticket catalogues could not be loaded."); });
    return node;
  },
  // The items added (and the one being filled in, if its action is chosen): confirmed on save.
  collect(node) {
    const box = node.querySelector("#tickets");
    const draft = box.draft();
    const items = [...box.pending, ...(draft ? [draft] : [])].map((i) => i.body);
    return items.length ? { items } : {};
  },
  // After a save the folder shows the items as stored (their status and service order).
  repaintOnSave: true,
};
