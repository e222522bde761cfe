// The back office (seed 002): a left menu and one section at a time, chosen by the URL's hash
// (#dashboard, #cases/active, #messages, #users, #config/pause-reasons, #audit). Admins see every
// section; supervisors those their role allows (the server refuses the rest anyway).
import { api, setCsrf } from "../js/api.js";
import { loadI18n, t, N_, languagePicker } from "../js/i18n.js";
import { messageLists } from "../js/inbox.js";
import { act } from "./ui.js";
import dashboard from "./dashboard.js";
import cases from "./cases.js";
import messages from "./messages.js";
import users from "./users.js";
import config from "./config.js";
import audit from "./audit.js";
import scripts from "./scripts.js";
import quality from "./quality.js";
import integrations from "./integrations.js";

const SECTIONS = { dashboard, cases, messages, users, config, scripts, quality, audit, integrations };
const ADMIN_ONLY = new Set(["users", "audit", "integrations"]);
const $ = (id) => document.getElementById(id);

const ctx = { user: null, isAdmin: false, lists: null, refreshCounts: () => {} };

// The menu's counts: cases by state and pending messages.
async function refreshCounts() {
  const [by, pending] = await Promise.all([
    api("GET", "/api/v1/cases/counts"),
    api("GET", "/api/v1/messages?pending=true"),
  ]);
  document.querySelectorAll("#nav [data-count]").forEach((n) => {
    const key = n.dataset.count;
    const value = key === "messages" ? pending.length : by[key] || 0;
    n.textContent = value ? String(value) : "";
  });
}

async function route() {
  const hash = location.hash.replace(/^#/, "") || "dashboard";
  let [name, arg] = hash.split("/");
  if (!SECTIONS[name] || (ADMIN_ONLY.has(name) && !ctx.isAdmin)) { name = "dashboard"; arg = undefined; }
  const key = name === "cases" ? `cases/${arg || "active"}` : name;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.section === key);
  // Each visit draws into its own box: a section still loading when another is chosen then
  // draws into a box no longer on the page, never into the new section.
  const main = $("main");
  const box = document.createElement("div");
  box.className = "section-box";
  main.replaceChildren(box);
  main.dataset.section = name;
  // Focus moves to the section now, not once it has loaded: by then the user may be typing in it.
  main.focus({ preventScroll: true });
  await act(() => SECTIONS[name](box, ctx, arg));
}

const ROLES = { admin: N_("admin"), supervisor: N_("supervisor"), operator: N_("operator") };

async function start() {
  await loadI18n();
  let me;
  try { me = await api("GET", "/api/v1/me"); } catch { location.href = "/static/index.html"; return; }
  if (me.user.role === "operator") { location.href = "/static/desk.html"; return; }
  setCsrf(me.csrf);
  ctx.user = me.user;
  ctx.isAdmin = me.user.role === "admin";
  ctx.lists = await messageLists();
  ctx.refreshCounts = () => act(refreshCounts);
  $("me-name").textContent = me.user.full_name;
  $("me-role").textContent = ROLES[me.user.role] ? t(ROLES[me.user.role]) : me.user.role;
  $("logout").before(languagePicker((language) => api("PUT", "/api/v1/me/language", { language })));
  for (const a of document.querySelectorAll("#nav [data-role=admin]")) a.classList.toggle("hidden", !ctx.isAdmin);
  $("logout").onclick = () => act(async () => {
    await api("POST", "/api/v1/logout");
    location.href = "/static/index.html";
  });
  window.addEventListener("hashchange", route);
  ctx.refreshCounts();
  await route();
}

start();
