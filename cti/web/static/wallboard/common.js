// Shared by the wallboard and the reports pages: JSON requests with the CSRF token, a sign-in
// form when the session is missing, small formatting helpers.
let csrf = "";

export function csrfToken() { return csrf; }

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

// "1:05", "12:03", "1:02:03" from seconds.
export function clock(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(r).padStart(2, "0")}`;
}

export function pct(ratio, digits = 0) {
  if (ratio === null || ratio === undefined) return "—";
  return `${(ratio * 100).toFixed(digits)}%`;
}

// The signed-in supervisor, or a sign-in form until there is one.
export async function signedInSupervisor(title) {
  for (;;) {
    try {
      const me = await api("GET", "/api/v1/me");
      csrf = me.csrf;
      if (me.user.role === "operator") {
        showSignin(title, "This page is for supervisors. Sign in as a supervisor or an admin.");
        await waitForSignin();
        continue;
      }
      hideSignin();
      return me.user;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      showSignin(title, "");
      await waitForSignin();
    }
  }
}

export async function signOut() {
  try { await api("POST", "/api/v1/logout"); } finally { location.reload(); }
}

let pending = null;

function showSignin(title, message) {
  let box = document.getElementById("signin");
  if (!box) {
    box = el("div", { id: "signin", class: "signin-veil" },
      el("form", { class: "signin-card" },
        el("div", { class: "brand" }, "☎ cti · ", el("span", { id: "signin-title" })),
        el("label", {}, "User name", el("input", { name: "username", autocomplete: "username", required: true })),
        el("label", {}, "Password", el("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
        el("div", { class: "signin-error", role: "alert" }),
        el("button", { type: "submit", class: "primary" }, "Sign in")));
    document.body.append(box);
    const form = box.querySelector("form");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const err = box.querySelector(".signin-error");
      err.textContent = "";
      try {
        await api("POST", "/api/v1/login", {
          username: form.username.value.trim(), password: form.password.value,
        });
        if (pending) pending();
      } catch (e2) {
        err.textContent = e2.message;
      }
    });
  }
  box.querySelector("#signin-title").textContent = title;
  box.querySelector(".signin-error").textContent = message;
  box.classList.remove("hidden");
}

function hideSignin() {
  const box = document.getElementById("signin");
  if (box) box.classList.add("hidden");
}

function waitForSignin() {
  return new Promise((resolve) => { pending = resolve; });
}
