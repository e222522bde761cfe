// Incoming-call messages (seed 004): the pending list, registering a call that could not be
// handled now (from: at least one of customer, contact, phone, tax id, serial, code; to: a user or a
// group), and each message's notes, finalize, postpone and situation.
import { api, el, when, showError, clearErrors } from "../js/api.js";
import { fromText, toText, messageCard, messageChip, recipientSelect, recipient } from "../js/inbox.js";
import { CustomerPicker } from "../js/customer_picker.js";
import { t, N_ } from "../js/i18n.js";
import { act, pageHead, table, toast, field } from "./ui.js";

// The list's filters: which messages it shows (plural, as the language says messages).
const FILTERS = [["true", N_("Pending|messages")], ["false", N_("Finalized|messages")], ["", N_("All|messages")]];

export default async function messages(main, ctx) {
  const state = { pending: "true", rows: [], open: null };
  const list = el("section", { class: "card" });
  const side = el("aside", { class: "card sticky", id: "message-side" });
  // Until a message is picked or a call registered the list has the page's whole width.
  const split = el("div", { class: "split idle" }, list, side);
  const newBtn = el("button", { type: "button", class: "primary", id: "message-new", onclick: () => { state.open = "new"; paintSide(); } }, t("Register a call"));

  main.append(
    pageHead(t("Incoming-call messages"), t("Calls that could not be handled at once, until someone finalizes them."), newBtn),
    el("div", { class: "subtabs" }, FILTERS.map(([v, label]) => el("button", {
      type: "button", class: `pill${state.pending === v ? " active" : ""}`, "data-filter": v,
      onclick: (e) => { state.pending = v; for (const p of e.target.parentNode.querySelectorAll(".pill")) p.classList.toggle("active", p === e.target); reload(); },
    }, t(label)))),
    split);

  async function reload() {
    state.rows = await api("GET", `/api/v1/messages${state.pending ? `?pending=${state.pending}` : ""}`);
    paintList();
  }

  function paintList() {
    list.replaceChildren(table([
      ["#", (m) => el("b", {}, String(m.id))],
      [t("Received"), (m) => el("span", {}, when(m.created_at), el("div", { class: "sub" }, t("by {name}", { name: m.created_by_name || m.created_by || "—" })))],
      [t("From"), (m) => el("b", {}, fromText(m))],
      [t("To"), (m) => toText(m, ctx.lists)],
      [t("About"), (m) => el("span", { class: "msg-about" }, m.description, el("div", { class: "sub" }, t("type {type} · {n} note(s)", { type: m.type || m.type_code || "—", n: m.notes.length })))],
      ["", (m) => messageChip(m)],
    ], state.rows, {
      id: "messages-table",
      empty: state.pending === "true" ? t("Nothing pending: every call has been handled.") : t("No messages."),
      rowAttrs: (m) => ({ "data-message": m.id, class: `clickable${state.open === m.id ? " selected" : ""}`, onclick: () => { state.open = m.id; paintList(); paintSide(); } }),
    }));
  }

  function paintSide() {
    if (state.open !== "new" && !state.rows.some((x) => x.id === state.open)) state.open = null;
    split.classList.toggle("idle", state.open === null);
    if (state.open === null) { side.replaceChildren(); return; }
    if (state.open === "new") { side.replaceChildren(newForm()); return; }
    const m = state.rows.find((x) => x.id === state.open);
    const close = el("button", { type: "button", class: "ghost small", id: "message-close", onclick: () => { state.open = null; paintList(); paintSide(); } }, t("Close"));
    side.replaceChildren(el("div", { class: "side-close" }, close), messageCard(m, ctx.lists, { toast, canEdit: true, changed: async (fresh) => {
      await reload();
      if (!state.rows.some((x) => x.id === fresh.id)) state.rows.unshift(fresh);
      state.open = fresh.id; paintList(); paintSide();
      ctx.refreshCounts();
    } }));
  }

  function newForm() {
    const usual = ctx.lists.situations.find((s) => s.usual_pending);
    const defType = ctx.lists.types.find((x) => x.is_default);
    const text = (name, placeholder) => el("input", { name, id: `new-${name}`, placeholder });
    // The contact is chosen among the picked customer's own contacts.
    const contact = el("select", { name: "from_contact_id", id: "new-from_contact", disabled: true },
      el("option", { value: "" }, t("Pick the customer first")));
    const fillContacts = async (picked) => {
      if (!picked) {
        contact.replaceChildren(el("option", { value: "" }, t("Pick the customer first")));
        contact.disabled = true;
        return;
      }
      const record = await api("GET", `/api/v1/customers/${picked.id}`);
      if (customer.value !== picked.id) return; // another customer was picked meanwhile
      contact.replaceChildren(
        el("option", { value: "" }, record.contacts.length ? t("— the customer itself —") : t("No contacts on record")),
        ...record.contacts.map((c) => el("option", { value: String(c.id) }, c.position ? `${c.name} · ${c.position}` : c.name)));
      contact.disabled = !record.contacts.length;
    };
    const customer = new CustomerPicker({
      name: "from_customer_id", id: "new-from_customer", label: t("Customer"),
      onChange: (picked) => act(() => fillContacts(picked)),
    });
    const form = el("form", { id: "message-form", class: "form-grid", autocomplete: "off" },
      el("h2", { class: "wide" }, t("Register a call")),
      el("div", { class: "wide muted small" }, t("Date, time and your name are stamped by the server. Say who called with at least one of these:")),
      field(t("Customer"), customer.root),
      field(t("Contact"), contact),
      field(t("Phone"), text("from_phone", "+1 202 555 0100")),
      field(t("Tax id"), text("from_tax_id", "")),
      field(t("Product serial"), text("from_serial", "")),
      field(t("Code"), text("from_code", "")),
      field(t("For"), recipientSelect(ctx.lists, "to", ctx.lists.groups[0] ? `g:${ctx.lists.groups[0].id}` : undefined), "wide"),
      field(t("Situation"), el("select", { name: "situation_code", id: "new-situation" },
        usual ? null : el("option", { value: "" }, t("Choose…")),
        ctx.lists.situations.filter((s) => s.pending).map((s) => el("option", { value: s.code, selected: usual && s.code === usual.code }, `${s.code} · ${s.name}`)))),
      field(t("Type"), el("select", { name: "type_code", id: "new-type" },
        defType ? null : el("option", { value: "" }, "—"),
        ctx.lists.types.map((x) => el("option", { value: x.code, selected: defType && x.code === defType.code }, `${x.code} · ${x.name}`)))),
      field(t("What it is about"), el("textarea", { name: "description", id: "new-description", rows: 4, placeholder: t("Explain the reason of the call well, so whoever takes it needs no guessing.") }), "wide"),
      el("div", { class: "wide form-foot" }, el("span", { class: "error", id: "new-error" }),
        el("button", { type: "button", class: "ghost", onclick: () => { state.open = null; paintSide(); } }, t("Cancel")),
        el("button", { type: "submit", class: "primary", id: "new-save" }, t("Register"))));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const v = (name) => form.elements[name].value.trim();
      const body = { description: v("description"), ...recipient(form.elements.to.value) };
      for (const name of ["from_phone", "from_tax_id", "from_serial", "from_code", "situation_code", "type_code"]) if (v(name)) body[name] = v(name);
      if (customer.undecided) {
        showError(form, { field: "from_customer_id", message: t("pick the customer from the list, or clear it") });
        return;
      }
      if (customer.value) body.from_customer_id = customer.value;
      if (v("from_contact_id")) body.from_contact_id = Number(v("from_contact_id"));
      act(async () => {
        const made = await api("POST", "/api/v1/messages", body);
        toast(t("Message #{id} registered for {whom}", { id: made.id, whom: toText(made, ctx.lists) }));
        state.pending = "true";
        await reload();
        state.open = made.id; paintList(); paintSide();
        ctx.refreshCounts();
      }, (e) => {
        // "from" names the whole group of fields: point at the first of them.
        const err = e.field === "from" ? Object.assign(e, { field: "from_phone" }) : e.field === "to" ? Object.assign(e, { field: "to" }) : e;
        showError(form, err, form.querySelector("#new-error"));
      });
    });
    return form;
  }

  // The side first, then the list: a form opened while the list loads is not drawn over.
  paintSide();
  await reload();
}
