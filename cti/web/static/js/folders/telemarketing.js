// Telemarketing folder (seed 003): the attention is a ticket; each item is a child ticket with its
// subject, product, occurrence and action (from the back office's catalogues), owner and action
// date. Items added here are confirmed when the attention is saved: each child ticket then takes
// its action's status (never the attention's), and an action may open a service order (Num OS).
import { api, el, day } from "../api.js";

export const STATUS_LABELS = { open: "Open", in_progress: "In progress", done: "Done" };

// The catalogues as the config endpoints give them, in use only.
async function catalogue() {
  const [subjects, occurrences, actions] = await Promise.all(
    ["ticket-subjects", "ticket-occurrences", "ticket-actions"].map((t) => api("GET", `/api/v1/config/${t}`)));
  const active = (rows) => rows.filter((r) => r.active);
  return { subjects: active(subjects), occurrences: active(occurrences), actions: active(actions) };
}

function options(rows, label = (r) => r.name) {
  return [el("option", { value: "" }, "—"), ...rows.map((r) => el("option", { value: r.id }, label(r)))];
}

function itemRow(i, pending) {
  const status = pending
    ? el("span", { class: "muted", title: "set when the attention is saved" }, `${STATUS_LABELS[i.sets_status] || i.sets_status} on save`)
    : el("span", { class: `ticket-status ${i.status}` }, STATUS_LABELS[i.status] || i.status);
  return el("tr", { "data-item": pending ? "new" : i.number, class: pending ? "pending" : "" },
    el("td", {}, pending ? el("span", { class: "muted" }, "new") : el("b", {}, i.number)),
    el("td", {}, i.subject), el("td", {}, i.product || "—"), el("td", {}, i.occurrence), el("td", {}, i.action),
    el("td", {}, i.owner || "—"), el("td", {}, i.action_date ? day(i.action_date) : "—"),
    el("td", { class: "item-status" }, status),
    el("td", { class: "item-os" }, i.service_order ? el("b", {}, i.service_order) : (pending && i.makes_order ? el("span", { class: "muted" }, "on save") : "—")));
}

// What an earlier attention recorded as free text, before the catalogues: shown, not edited.
function legacy(a) {
  const parts = [["Subject", a.subject], ["Product", a.product], ["Occurrence", a.occurrence], ["Action", a.action], ["Action status", a.action_status]]
    .filter(([, v]) => v);
  if (!parts.length) return null;
  return el("div", { class: "muted small", id: "ticket-legacy" }, "Recorded as free text: ",
    parts.map(([k, v]) => el("span", {}, el("b", {}, `${k}: `), `${v}. `)));
}

export default {
  routine: "telemarketing",
  title: "Telemarketing",
  render({ attention, lists }) {
    const a = attention || {};
    const pending = [];
    const tbody = el("tbody", {});
    const table = el("table", { id: "ticket-items" },
      el("thead", {}, el("tr", {}, ["Ticket", "Subject", "Product", "Occurrence", "Action", "Owner", "Action date", "Status", "Num OS"]
        .map((h) => el("th", {}, h)))), tbody);
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
        el("label", {}, "Subject", subject), el("label", {}, "Occurrence", occurrence), el("label", {}, "Action", action),
        el("label", {}, "Product", product), el("label", {}, "Owner", owner), el("label", {}, "Action date", date)),
      el("div", { class: "actions" }, el("button", { type: "button", id: "item-add" }, "Add item"), hint),
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
      if (x) hint.textContent = `Sets the child ticket to ${STATUS_LABELS[x.sets_status]}${x.service_order ? "; opens a service order" : ""}${x.nonconformity ? "; may raise a non-conformity" : ""}`;
      else hint.textContent = subject.value ? "An item needs its occurrence and action; without them it is not saved." : "";
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
      if (!item) { hint.textContent = "Choose a subject, an occurrence and an action first."; return; }
      pending.push(item);
      product.value = ""; date.value = ""; action.value = ""; action.onchange();
      paint();
    };
    paint();
    catalogue().then((c) => {
      cat = c;
      subject.replaceChildren(...options(c.subjects));
      subject.onchange();
    }).catch(() => { hint.textContent = "The ticket catalogues could not be loaded."; });
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
