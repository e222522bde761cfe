// Shared by the wallboard and the reports pages: the sign-in form they show when the session is
// missing (or is an operator's), and signing out. Requests and formatting: /static/js/api.js.
import { api, ApiError, el, setCsrf } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";

// The signed-in supervisor, or a sign-in form until there is one.
export async function signedInSupervisor(title) {
  for (;;) {
    try {
      const me = await api("GET", "/api/v1/me");
      setCsrf(me.csrf);
      if (me.user.role === "operator") {
        showSignin(title, t("This page is for supervisors. Sign in as a supervisor or an admin."));
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

// The session ended while the page was open: the sign-in form says so; signing in reloads.
export async function signInAgain(title, message) {
  showSignin(title, message);
  await waitForSignin();
  location.reload();
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
        el("label", {}, t("User name"), el("input", { name: "username", autocomplete: "username", required: true })),
        el("label", {}, t("Password"), el("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
        el("div", { class: "signin-error", role: "alert" }),
        el("button", { type: "submit", class: "primary" }, t("Sign in"))));
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
