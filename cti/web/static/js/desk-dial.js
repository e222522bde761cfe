// Dialling out from the desk and "Pending calls" (the seeds' Ligações Pendentes).
//
// Any element with data-dial="<source>:<id>" (a customer's or contact's number in the pop, a
// history entry, a pending call) is a click-to-call: the server reads the number from the record
// (the page may only see it masked), rings the agent's own phone first, then the number. The dial
// pad calls a typed number under the same rules. The pending calls (my pending and planned
// attentions and the callbacks promised to me, by due time) are reloaded every 30 s and whenever
// the desk says an attention changed (the "cti:attention" event of desk.js); the badge counts the
// ones that are due. A number that did not answer is told (the desk frame dial_failed).
import { api, ApiError, el, when } from "./api.js";
import { t, whenTranslated } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const SOURCES = { attention: "attention_id", callback: "callback_id", customer: "customer_id", contact: "contact_id" };

function toast(text, bad = false) {
  const t = el("div", { class: `toast${bad ? " bad" : ""}` }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 5000);
}

async function dial(body, label) {
  try {
    const res = await api("POST", "/api/v1/desk/dial", body);
    toast(t("Calling {who}: your phone rings first, then {number}.", { who: label || res.number, number: res.number }));
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { location.href = "/static/index.html"; return false; }
    toast(t("Not called: {why}", { why: e.message }), true);
    return false;
  }
}

function dueText(call) {
  if (!call.due_at) return t("pending: due now");
  return call.due ? t("due since {when}", { when: when(call.due_at) }) : t("due {when}", { when: when(call.due_at) });
}

function render(calls, masked) {
  const box = $("pending-list");
  const dueCount = calls.filter((c) => c.due).length;
  const badge = $("pending-due");
  badge.textContent = String(dueCount);
  badge.classList.toggle("hidden", dueCount === 0);
  badge.title = t("{n} due now", { n: dueCount });
  $("pending-masked").classList.toggle("hidden", !masked);
  if (!calls.length) { box.replaceChildren(el("div", { class: "empty" }, t("No pending calls."))); return; }
  box.replaceChildren(el("ul", { class: "list pending-calls" }, calls.map((c) =>
    el("li", { class: c.due ? "due" : "", "data-pending": `${c.kind}:${c.id}` },
      el("div", { class: "row" },
        el("div", { class: "pending-who" },
          el("b", {}, c.name || c.phone || t("Unknown")),
          el("div", { class: "small muted" }, `${c.kind === "callback" ? t("Callback") : t("Attention #{id}", { id: c.id })} · ${c.about}`),
          el("div", { class: `small ${c.due ? "due-text" : "muted"}` }, dueText(c))),
        c.phone
          ? el("button", { type: "button", class: "small", "data-dial": `${c.kind}:${c.id}`, "data-label": c.name || "", title: t("Call {number}", { number: c.phone }) }, t("Call"))
          : null)))));
}

export async function loadPending() {
  try {
    const { calls, masked } = await api("GET", "/api/v1/desk/pending");
    render(calls, masked);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    $("pending-list").replaceChildren(el("div", { class: "empty" }, e.message));
  }
}

function mount() {
  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest("[data-dial]") : null;
    if (!target) return;
    ev.preventDefault();
    const [source, id] = target.dataset.dial.split(":");
    if (!SOURCES[source]) return;
    target.disabled = true;
    dial({ [SOURCES[source]]: Number(id) }, target.dataset.label).finally(() => { target.disabled = false; });
  });
  $("dialpad").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("dial-number");
    const number = input.value.trim();
    if (!number) { toast(t("Type a number to call"), true); input.focus(); return; }
    if (await dial({ number })) input.value = "";
  });
  document.addEventListener("cti:attention", () => loadPending());
  document.addEventListener("cti:dial_failed", (ev) => toast(t("Not connected: {why}.", { why: t(ev.detail.reason) }), true));
  // In the page's language: desk.js loads it (the list came back first and read "No pending calls.").
  whenTranslated().then(() => {
    loadPending();
    setInterval(loadPending, 30000);
  });
}

mount();
