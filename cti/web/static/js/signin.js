import { api, ApiError } from "./api.js";
import { loadI18n, t } from "./i18n.js";

// The page speaks the browser's language (no user yet).
loadI18n();

const form = document.getElementById("signin");
const error = document.getElementById("error");
const takeover = document.getElementById("takeover");
const go = document.getElementById("go");

// Operators work at the desk; supervisors land on the wallboard (which links to the reports and
// the back office); admins on the back office's dashboard. Both may still open the desk.
const HOME = {
  operator: "/static/desk.html",
  supervisor: "/static/wallboard/index.html",
  admin: "/static/admin/index.html",
};

function home(user) {
  return HOME[user.role] || "/static/desk.html";
}

async function enter(user) {
  location.href = home(user);
}

async function signIn(take) {
  error.textContent = "";
  go.disabled = true;
  try {
    const body = { username: form.username.value.trim(), password: form.password.value };
    if (take) body.takeover = true;
    const res = await api("POST", "/api/v1/login", body);
    await enter(res.user);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      takeover.classList.remove("hidden");
      go.classList.add("hidden");
    } else {
      error.textContent = e.message;
    }
  } finally {
    go.disabled = false;
  }
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); signIn(false); });
document.getElementById("take").addEventListener("click", () => signIn(true));
document.getElementById("stay").addEventListener("click", () => {
  takeover.classList.add("hidden");
  go.classList.remove("hidden");
  error.textContent = t("Fine: keep working at the other desk.");
});

// Already signed in: go straight to work.
api("GET", "/api/v1/me").then((me) => enter(me.user)).catch(() => {});
