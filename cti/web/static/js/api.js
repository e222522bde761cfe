// The one REST module of every page: JSON in and out, the session's CSRF token on every
// state-changing request, building elements, and the small formatting helpers.
import { fmt } from "./i18n.js";

let csrf = "";

export function setCsrf(token) { csrf = token || ""; }
export function csrfToken() { return csrf; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.field = body ? body.field : undefined;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const resp = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await resp.json(); } catch { data = null; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// True when the server answers that this browser's session is over (401); false while it cannot
// be reached or still knows the session (a page's socket was refused, or only dropped?).
export async function sessionEnded() {
  try {
    await api("GET", "/api/v1/me");
    return false;
  } catch (e) {
    return e instanceof ApiError && e.status === 401;
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Dates, days and money as the reader's language writes them (js/i18n.js).
export function when(iso) {
  return fmt.dateTime(iso);
}

export function day(iso) {
  return fmt.date(iso);
}

export function money(v) {
  return fmt.money(v);
}

// A refusal shown next to the input it names (`[name=field]` inside `root`), else in `fallback`.
export function showError(root, e, fallback) {
  clearErrors(root);
  if (fallback) fallback.textContent = "";
  const input = e.field ? root.querySelector(`[name="${CSS.escape(e.field)}"]`) : null;
  if (input) {
    input.classList.add("invalid");
    input.closest("label")?.append(el("span", { class: "field-error", "data-field": e.field }, e.message));
    input.focus();
  } else if (fallback) {
    fallback.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
  }
}

export function clearErrors(root) {
  for (const n of root.querySelectorAll(".field-error")) n.remove();
  for (const n of root.querySelectorAll(".invalid")) n.classList.remove("invalid");
}

// "1:05", "12:03", "1:02:03" from seconds.
export function clock(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}

export function pct(ratio, digits = 0) {
  if (ratio === null || ratio === undefined) return "—";
  return `${(ratio * 100).toFixed(digits)}%`;
}
