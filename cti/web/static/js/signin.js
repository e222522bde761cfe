import { api, ApiError } from "./api.js";

const form = document.getElementById("signin");
const error = document.getElementById("error");
const takeover = document.getElementById("takeover");
const go = document.getElementById("go");

function home(user) {
  if (user.role === "operator") return "/static/desk.html";
  return "/static/wallboard.html";
}

async function enter(user) {
  const target = home(user);
  if (target !== "/static/desk.html") {
    const probe = await fetch(target, { method: "HEAD" });
    if (!probe.ok) { location.href = "/static/desk.html"; return; }
  }
  location.href = target;
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
  error.textContent = "Fine: keep working at the other desk.";
});

// Already signed in: go straight to work.
api("GET", "/api/v1/me").then((me) => enter(me.user)).catch(() => {});
