// A customer picker: a text input that searches customers as one types (GET /api/v1/customers?q=,
// by name, code, tax id or phone), lists the matches under it (code · name · region) and holds the
// chosen customer's id. Arrows move through the list, Enter picks, Escape closes it; the mouse
// picks too. Typing again after a pick drops the pick. Only the answer to the latest text is shown.
//
//   const picker = new CustomerPicker({ name: "customer_id", label: "Customer", onChange: (c) => … });
//   form.append(picker.root);  …  picker.value  // the chosen id, or null
import { api, el } from "./api.js";
import { t, N_ } from "./i18n.js";

export const SEARCH_DELAY_MS = 200;
const MIN_QUERY = 2;
const HINT = { phone: N_("by phone"), tax_id: N_("by tax id") };
let pickers = 0;

export class CustomerPicker {
  constructor({ name, id, label = t("Customer"), placeholder = t("Name, code, tax id or phone"), onChange = () => {} } = {}) {
    const n = ++pickers;
    this.listId = `picker-list-${n}`;
    this.onChange = onChange;
    this.customer = null;
    this.results = [];
    this.active = -1;
    this.seq = 0; // bumped for every search and every change of text: older answers are dropped
    this.timer = null;
    this.input = el("input", {
      type: "text", name, id, placeholder, autocomplete: "off", spellcheck: "false",
      role: "combobox", "aria-label": label, "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": this.listId,
      oninput: () => this.typed(),
      onkeydown: (e) => this.key(e),
      onblur: () => this.close(),
      onfocus: () => {
        if (this.customer) this.input.select(); // typing replaces the pick
        else if (this.results.length) this.open();
      },
    });
    // A press in the list must not take the focus from the input (its blur closes the list).
    this.list = el("ul", {
      class: "picker-list hidden", id: this.listId, role: "listbox", "aria-label": label,
      onmousedown: (e) => e.preventDefault(),
    });
    this.root = el("div", { class: "picker" }, this.input, this.list);
  }

  // The chosen customer's id, or null.
  get value() { return this.customer ? this.customer.id : null; }

  // Some text typed but no customer picked from the list.
  get undecided() { return !this.customer && this.input.value.trim() !== ""; }

  clear() {
    this.input.value = "";
    this.choose(null);
    this.results = [];
    this.seq += 1;
    this.close();
  }

  focus() { this.input.focus(); }

  typed() {
    if (this.customer) this.choose(null, { keepText: true });
    clearTimeout(this.timer);
    this.seq += 1;
    const q = this.input.value.trim();
    if (q.length < MIN_QUERY) { this.results = []; this.busy(false); this.close(); return; }
    this.timer = setTimeout(() => this.search(q), SEARCH_DELAY_MS);
  }

  async search(q) {
    const mine = ++this.seq;
    this.busy(true);
    let found;
    try {
      found = await api("GET", `/api/v1/customers?q=${encodeURIComponent(q)}`);
    } catch (e) {
      if (mine === this.seq) { this.busy(false); this.note(e.message, "bad"); }
      return;
    }
    if (mine !== this.seq) return; // the text changed while this answer was on its way
    this.busy(false);
    this.results = found;
    this.active = -1;
    this.paint();
  }

  paint() {
    if (!this.results.length) { this.note(t("No customer matches")); return; }
    this.list.replaceChildren(...this.results.map((c, i) => el("li", {
      id: `${this.listId}-${i}`, role: "option", "aria-selected": "false", "data-customer": c.id,
      onmousedown: () => this.choose(c),
      onmousemove: () => { if (this.active !== i) this.highlight(i); },
    },
    el("span", { class: "picker-code" }, c.code), el("span", { class: "picker-sep" }, " · "),
    el("span", { class: "picker-name" }, c.name),
    c.region ? el("span", { class: "picker-sep" }, " · ") : null,
    c.region ? el("span", { class: "picker-region" }, c.region) : null,
    HINT[c.match] ? el("span", { class: "picker-hint" }, t(HINT[c.match])) : null)));
    this.open();
  }

  busy(on) { this.root.classList.toggle("searching", on); }

  note(text, tone = "") {
    this.list.replaceChildren(el("li", { class: `picker-note ${tone}`, "aria-disabled": "true" }, text));
    this.active = -1;
    this.open();
  }

  open() {
    if (document.activeElement !== this.input) return;
    this.list.classList.remove("hidden");
    this.input.setAttribute("aria-expanded", "true");
  }

  close() {
    this.list.classList.add("hidden");
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  get isOpen() { return !this.list.classList.contains("hidden"); }

  highlight(i) {
    this.active = i;
    this.list.querySelectorAll("[role=option]").forEach((li, j) => {
      li.classList.toggle("active", j === i);
      li.setAttribute("aria-selected", String(j === i));
      if (j === i) li.scrollIntoView({ block: "nearest" });
    });
    if (i >= 0) this.input.setAttribute("aria-activedescendant", `${this.listId}-${i}`);
    else this.input.removeAttribute("aria-activedescendant");
  }

  key(e) {
    const count = this.results.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!count || this.customer) return;
      e.preventDefault();
      if (!this.isOpen) { this.paint(); if (e.key === "ArrowDown") { this.highlight(0); return; } }
      const step = e.key === "ArrowDown" ? 1 : -1;
      this.highlight(this.active < 0 ? (step > 0 ? 0 : count - 1) : (this.active + step + count) % count);
    } else if (e.key === "Enter") {
      if (!this.isOpen) return; // the form's own Enter
      e.preventDefault();
      if (this.active >= 0) this.choose(this.results[this.active]);
    } else if (e.key === "Escape") {
      if (!this.isOpen) return;
      e.preventDefault();
      e.stopPropagation();
      this.close();
    }
  }

  choose(c, { keepText = false } = {}) {
    this.customer = c;
    this.root.classList.toggle("chosen", !!c);
    if (c) {
      this.root.dataset.customerId = String(c.id);
      this.input.value = `${c.code} · ${c.name}`;
      this.seq += 1;
      clearTimeout(this.timer);
      this.busy(false);
      this.close();
    } else {
      delete this.root.dataset.customerId;
      if (!keepText) this.input.value = "";
    }
    this.input.classList.remove("invalid");
    for (const n of this.root.closest("label")?.querySelectorAll(".field-error") || []) n.remove();
    this.onChange(c);
  }
}
