// What the back-office sections share: toasts, error handling, page heads, tables.
import { ApiError, el } from "../js/api.js";
import { t } from "../js/i18n.js";

// One toast at a time: a new one replaces the last.
export function toast(text, bad = false) {
  for (const n of document.querySelectorAll(".toast")) n.remove();
  const shown = el("div", { class: `toast${bad ? " bad" : ""}`, role: "status" }, text);
  document.body.append(shown);
  setTimeout(() => shown.remove(), 3500);
}

// Run an action; a refusal is shown as a toast (or next to its field when `form` is given).
export async function act(fn, onError) {
  try { return await fn(); } catch (e) {
    if (e instanceof ApiError && e.status === 401) { location.href = "/static/index.html"; return undefined; }
    if (onError) onError(e); else toast(e.message, true);
    return undefined;
  }
}

export function pageHead(title, lead, ...right) {
  return el("div", { class: "page-head" },
    el("div", {}, el("h1", {}, title), lead ? el("div", { class: "lead" }, lead) : null),
    el("div", { class: "spacer" }), ...right);
}

// A table: columns are [header, (row) => cell content, class?]; rows may be clickable.
export function table(columns, rows, { id, empty, rowAttrs } = {}) {
  if (!rows.length) return el("div", { class: "empty" }, empty ?? t("Nothing here."));
  return el("table", { class: "data", id },
    el("thead", {}, el("tr", {}, columns.map(([h, , cls]) => el("th", { class: cls }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", rowAttrs ? rowAttrs(r) : {},
      columns.map(([, cell, cls]) => el("td", { class: cls }, cell(r)))))));
}

export function field(label, input, cls) {
  return el("label", { class: cls }, label, input);
}

export function check(name, label, checked) {
  return el("label", { class: "check" }, el("input", { type: "checkbox", name, checked }), label);
}
