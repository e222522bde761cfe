// REST helpers: JSON in and out, the session's CSRF token on every state-changing request.
let csrf = "";

export function setCsrf(token) { csrf = token || ""; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
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

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

export function day(iso) {
  if (!iso) return "—";
  return new Date(iso.length === 10 ? iso + "T00:00:00" : iso).toLocaleDateString();
}

export function money(v) {
  return Number(v).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
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
  root.querySelectorAll(".field-error").forEach((n) => n.remove());
  root.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
}
