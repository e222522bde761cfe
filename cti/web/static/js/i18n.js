// The pages' language: the texts from the server's catalogues (GET /api/v1/i18n, the same gettext
// .po files the server uses), and numbers, money and dates in the language's own formats (Intl).
//
//   await loadI18n();                 // once, before the page paints anything
//   t(text)                           // the text in the reader's language (English: itself)
//   t(text, { n: 3 })                 // with its {n} fields filled
//   N_(text)                          // marks a text written here, translated where shown
//   fmt.money(1234.5)                 // "R$ 1.234,50" in pt-BR with BRL
//
// Static markup is marked in the HTML: data-i18n (the element's text, or the attribute's value when
// it has one) and data-i18n-attrs ("placeholder title aria-label": those attributes);
// translatePage() translates them.
//
// One English word can need several translations ("Closed": a case group, Spanish "Cerrados"; an
// attention's status, "Cerrada"): its text then carries the context after a bar, "Closed|cases",
// which English shows without it.

import { api } from "./api.js";

const state = { language: "en", currency: "USD", messages: {}, languages: { en: "English" }, chosen: null };

let translated;
const loaded = new Promise((resolve) => { translated = resolve; });

export async function loadI18n() {
  try {
    Object.assign(state, await api("GET", "/api/v1/i18n"));
  } catch {
    // The server unreachable: the page stays in English, as written.
  }
  document.documentElement.lang = state.language;
  translatePage(document);
  translated(state);
  return state;
}

// Resolves once the page's script has loaded its language: another module of the page that writes
// text at start waits for it (it wrote English when its data came back first).
export function whenTranslated() { return loaded; }

export function language() { return state.language; }
export function languages() { return state.languages; }
export function chosenLanguage() { return state.chosen; }
export function currency() { return state.currency; }

const squash = (s) => s.replace(/\s+/g, " ").trim();

export const N_ = (text) => text;

// The text without its context ("Closed|cases" → "Closed").
const plain = (text) => text.replace(/\|[\w-]+$/, "");

export function t(text, values) {
  const found = state.messages[text] || plain(text);
  if (!values) return found;
  return found.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// cti's own pause reasons, as the PBX reports them (cti.domain.no_answer.MISSED_REASON), in the
// reader's language; the reasons an admin named are shown as named.
const OWN_REASONS = { "missed calls": N_("missed calls|pause") };
export function pauseReason(reason) {
  return Object.hasOwn(OWN_REASONS, reason) ? t(OWN_REASONS[reason]) : reason;
}

export function translatePage(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    const text = node.getAttribute("data-i18n") || squash(node.textContent);
    if (text) node.textContent = t(text);
  }
  for (const node of root.querySelectorAll("[data-i18n-attrs]")) {
    for (const attr of node.getAttribute("data-i18n-attrs").split(/\s+/)) {
      const value = node.getAttribute(attr);
      if (value) node.setAttribute(attr, t(squash(value)));
    }
  }
}

const cache = {};
function formatter(key, make) {
  const k = `${state.language}|${state.currency}|${key}`;
  if (!cache[k]) cache[k] = make();
  return cache[k];
}

export const fmt = {
  money(v) {
    if (v == null || v === "" || Number.isNaN(Number(v))) return "—";
    return formatter("money", () => new Intl.NumberFormat(state.language, { style: "currency", currency: state.currency })).format(Number(v));
  },
  number(v, digits) {
    if (v == null || Number.isNaN(Number(v))) return "—";
    return formatter(`n${digits}`, () => new Intl.NumberFormat(state.language, digits == null ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits })).format(Number(v));
  },
  percent(v, digits = 1) {
    if (v == null || Number.isNaN(Number(v))) return "—";
    return formatter(`p${digits}`, () => new Intl.NumberFormat(state.language, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits })).format(Number(v));
  },
  date(v) {
    if (!v) return "—";
    const d = typeof v === "string" && /^\d{4}-\d\d-\d\d$/.test(v) ? new Date(`${v}T12:00:00`) : new Date(v);
    return formatter("date", () => new Intl.DateTimeFormat(state.language, { day: "2-digit", month: "2-digit", year: "numeric" })).format(d);
  },
  dateTime(v) {
    if (!v) return "—";
    return formatter("dt", () => new Intl.DateTimeFormat(state.language, { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false })).format(new Date(v));
  },
  time(v, seconds = false) {
    if (!v) return "—";
    return formatter(`t${seconds}`, () => new Intl.DateTimeFormat(state.language, seconds ? { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false } : { hour: "2-digit", minute: "2-digit", hour12: false })).format(new Date(v));
  },
};

// A language picker: a <select> of the languages offered, the user's own choice selected
// ("" for the browser's); choosing saves it (PUT /api/v1/me/language) and reloads the page.
export function languagePicker(save) {
  const select = document.createElement("select");
  select.setAttribute("aria-label", t("Language"));
  select.className = "lang-picker";
  const auto = document.createElement("option");
  auto.value = "";
  auto.textContent = t("Browser language");
  select.append(auto);
  for (const [code, name] of Object.entries(state.languages)) {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = name;
    option.selected = code === state.chosen;
    select.append(option);
  }
  select.addEventListener("change", async () => {
    await save(select.value || null);
    location.reload();
  });
  return select;
}
