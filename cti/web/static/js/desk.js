// The agent desk: wires the socket, the pop, the talk timer, the attention form and the footer.
import { api, ApiError, el, setCsrf, when, showError, clearErrors } from "./api.js";
import { DeskSocket, CLOSE_TAKEN_OVER } from "./socket.js";
import { TalkTimer } from "./timer.js";
import { renderPop } from "./pop.js";
import { PreviewCard } from "./preview.js";
import { mountInbox } from "./inbox.js";
import { CustomerPicker } from "./customer_picker.js";
import telemarketing from "./folders/telemarketing.js";
import telesales from "./folders/telesales.js";
import collection from "./folders/collection.js";

const FOLDERS = [telemarketing, telesales, collection];
const STATES = {
  offline: ["Offline", "grey"], ready: ["Ready", "ok"], paused: ["Paused", "warn"],
  ringing: ["Ringing", ""], in_call: ["On a call", ""], wrap_up: ["Wrap-up", "warn"],
};
const $ = (id) => document.getElementById(id);

// messageId: the pending incoming-call message the open attention acts on (finalized on save).
const view = { user: null, lists: null, remoteAnswer: false, desk: null, folder: null, footer: null, messageId: null };
let socket;
let timer;

function toast(text, bad = false) {
  const t = el("div", { class: `toast${bad ? " bad" : ""}` }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 3500);
}

async function act(fn) {
  try { await fn(); } catch (e) {
    if (e instanceof ApiError && e.status === 401) { location.href = "/static/index.html"; return; }
    toast(e.message, true);
  }
}

// --- state and controls -----------------------------------------------------------------------

function paintState() {
  const d = view.desk;
  const [label, tone] = STATES[d.state] || [d.state, "grey"];
  $("state").className = `chip ${tone}`;
  $("state-text").textContent = d.state === "paused" && d.reason ? `${label} · ${d.reason}` : label;
  $("phone-off").classList.toggle("hidden", d.signed_in);
  $("phone-on").classList.toggle("hidden", !d.signed_in);
  $("phone-label").textContent = d.signed_in ? `${d.interface} · ${d.queues.join(", ")}` : "";
  const inCall = !!(d.timer);
  $("hangup").disabled = !inCall;
  $("transfer").disabled = !inCall;
  $("answer").classList.toggle("hidden", !(view.remoteAnswer && d.state === "ringing"));
  $("pause").classList.toggle("hidden", d.state === "paused");
  $("pause-reason").classList.toggle("hidden", d.state === "paused");
  $("resume").classList.toggle("hidden", d.state !== "paused");
}

function paintFooter(f) {
  if (!f) return;
  view.footer = f;
  const last = f.last_call;
  $("f-last").textContent = last ? `${last.caller || "?"} · ${last.talk_seconds}s · ${when(last.at)}` : "—";
  $("f-operator").textContent = f.operator || "—";
  $("f-status").textContent = f.attention_status || "—";
  $("f-operation").textContent = f.operation || "—";
  $("f-next").textContent = f.next_call ? when(f.next_call) : "—";
}

// --- the pop ----------------------------------------------------------------------------------

// The desk repaints the pop on every call event (answered, attention opened, ended): the form of
// the same pop is kept, with what the agent typed and picked, and its focus.
const registering = { popId: null, node: null };

function registerForm(pop) {
  if (registering.popId === pop.id && registering.node) {
    const focused = registering.node.contains(document.activeElement) ? document.activeElement : null;
    if (focused) queueMicrotask(() => { if (focused.isConnected) focused.focus(); });
    return registering.node;
  }
  const name = el("input", { placeholder: "Name", value: pop.caller_name || "", id: "reg-name" });
  const company = el("input", { placeholder: "Company", id: "reg-company" });
  const customer = new CustomerPicker({ id: "reg-customer", label: "Customer", placeholder: "Customer: name, code, tax id or phone" });
  const kind = el("select", { id: "reg-kind", onchange: () => paintKind() },
    el("option", { value: "suspect" }, "New suspect"), el("option", { value: "contact" }, "Contact of a customer"));
  const paintKind = () => {
    const contact = kind.value === "contact";
    company.classList.toggle("hidden", contact);
    customer.root.classList.toggle("hidden", !contact);
  };
  const go = el("button", { type: "button", class: "primary", id: "reg-go", onclick: () => act(async () => {
    const body = { kind: kind.value, name: name.value.trim() };
    if (kind.value === "suspect") { if (company.value.trim()) body.company = company.value.trim(); }
    else if (customer.value) body.customer_id = customer.value;
    else { customer.focus(); toast("Pick the customer this contact belongs to", true); return; }
    await api("POST", "/api/v1/desk/register", body);
    toast("Caller registered");
  }) }, "Register");
  paintKind();
  const node = el("div", { class: "pop-section", id: "register" }, el("h3", {}, "Unknown number"),
    el("div", { style: "display:grid;gap:8px" }, kind, name, company, customer.root, go));
  Object.assign(registering, { popId: pop.id, node });
  return node;
}

function paintPop() {
  const pop = view.desk.pop;
  $("pop-empty").classList.toggle("hidden", !!pop);
  const body = $("pop-body");
  body.classList.toggle("hidden", !pop);
  $("pop").classList.toggle("ringing", !!pop && pop.status === "ringing");
  body.replaceChildren(...(pop ? renderPop(pop, { routines: view.user.routines, registerForm, handleMessage, messageId: view.messageId, attention: view.desk.attention }) : []));
}

// "Handle in this attention": saving the attention finalizes the message (an action made from it).
function handleMessage(m) {
  view.messageId = view.messageId === m.id ? null : m.id;
  paintMessageLink(); paintPop();
}

function paintMessageLink() {
  const box = $("message-link");
  box.classList.toggle("hidden", !view.messageId);
  box.textContent = view.messageId ? `Saving finalizes incoming-call message #${view.messageId}` : "";
}

// --- the attention form -----------------------------------------------------------------------

function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function folders() {
  return FOLDERS.filter((f) => view.user.routines.includes(f.routine));
}

// The folders load what they show from the back office; a repaint keeps a folder (and what the
// operator typed in it) unless the folder or the attention changed, or `force`.
function paintFolder(force = false) {
  const a = view.desk.attention;
  const mine = folders();
  $("folders").replaceChildren(...mine.map((f) => el("button", {
    type: "button", class: `tab${f === view.folder ? " active" : ""}`, "data-folder": f.routine,
    onclick: () => { view.folder = f; paintFolder(); },
  }, f.title)));
  $("folders").classList.toggle("hidden", mine.length < 2);
  const body = $("folder-body");
  const key = `${view.folder.routine}:${a ? a.id : ""}`;
  if (force || body.dataset.key !== key) {
    body.dataset.key = key;
    body.replaceChildren(view.folder.render({ attention: a, pop: view.desk.pop, lists: view.lists, toast, changed: refreshOperation }));
  }
  const kind = view.folder.routine;
  const reasons = view.lists.closing_reasons.filter((r) => !r.kind || r.kind === kind);
  $("closing-reason").replaceChildren(el("option", { value: "" }, "—"),
    ...reasons.map((r) => el("option", { value: r.id, selected: a && a.closing_reason_id === r.id }, r.name)));
}

function paintAttention() {
  const a = view.desk.attention;
  $("attention-empty").classList.toggle("hidden", !!a);
  $("attention").classList.toggle("hidden", !a);
  $("attention-id").textContent = a ? `#${a.id} · ${a.direction} · opened ${when(a.created_at)}` : "";
  if (!a) { view.messageId = null; paintMessageLink(); loadHistory(null); return; }
  const same = view.folder && $("folder-body").dataset.key === `${view.folder.routine}:${a.id}`;
  if (!same) view.folder = folders().find((f) => f.routine === a.kind) || folders()[0];
  paintFolder();
  $("status").value = a.status;
  $("next-call").value = localInput(a.next_call_at);
  $("notes").replaceChildren(...(a.notes.length ? a.notes.map((n) => el("div", { class: "note" },
    el("div", { class: "meta" }, `${n.author} · ${when(n.at)}`), el("div", {}, n.text))) : [el("div", { class: "muted small" }, "No notes yet.")]));
  loadHistory(a);
}

// The telesales folder made or changed a quote or order: the footer's operation follows.
async function refreshOperation() {
  const a = view.desk.attention;
  if (!a) return;
  const fresh = await api("GET", `/api/v1/desk/attentions/${a.id}`);
  if (view.desk.attention && view.desk.attention.id === fresh.id) {
    view.desk.attention.operation = fresh.operation;
    paintFooter({ ...(view.footer || {}), operation: fresh.operation ? fresh.operation.label : null });
  }
}

async function saveAttention(ev) {
  ev.preventDefault();
  const a = view.desk.attention;
  const form = $("attention");
  clearErrors(form);
  $("form-error").textContent = "";
  const next = $("next-call").value;
  const body = {
    kind: view.folder.routine,
    status: $("status").value,
    closing_reason_id: $("closing-reason").value ? Number($("closing-reason").value) : null,
    next_call_at: next ? new Date(next).toISOString() : null,
    ...view.folder.collect($("folder-body")),
  };
  if (view.messageId) body.message_id = view.messageId;
  try {
    await api("PATCH", `/api/v1/desk/attentions/${a.id}`, body);
    if (view.messageId) { view.messageId = null; paintMessageLink(); }
    const text = $("note").value.trim();
    if (text) { await api("POST", `/api/v1/desk/attentions/${a.id}/notes`, { text }); $("note").value = ""; }
    view.desk.attention = await api("GET", `/api/v1/desk/attentions/${a.id}`);
    paintAttention();
    toast("Attention saved");
  } catch (e) {
    showError(form, e, $("form-error"));
  }
}

async function loadHistory(a) {
  const box = $("history");
  if (!a) { box.replaceChildren(el("div", { class: "empty" }, "The history of the caller appears here.")); $("history-of").textContent = ""; return; }
  const [party, id, label] = a.customer_id ? ["customer", a.customer_id, a.customer]
    : a.contact_id ? ["contact", a.contact_id, a.contact]
    : a.suspect_id ? ["suspect", a.suspect_id, a.contact]
    : a.prospect_id ? ["prospect", a.prospect_id, ""] : [null, null, ""];
  if (!party) { box.replaceChildren(el("div", { class: "empty" }, "Unknown caller: no history.")); $("history-of").textContent = ""; return; }
  $("history-of").textContent = label || "";
  const { attentions, masked } = await api("GET", `/api/v1/desk/history/${party}/${id}`);
  $("history-of").textContent = `${label || ""}${masked ? " · personal data masked" : ""}`;
  if (!attentions.length) { box.replaceChildren(el("div", { class: "empty" }, "No attentions yet.")); return; }
  box.replaceChildren(el("table", { id: "history-table" },
    el("thead", {}, el("tr", {}, ["When", "Attention", "Status", "Operator", "Notes"].map((h) => el("th", {}, h)))),
    el("tbody", {}, attentions.map((h) => {
      const talk = h.answered_at && h.ended_at ? Math.round((new Date(h.ended_at) - new Date(h.answered_at)) / 1000) : null;
      return el("tr", { "data-attention": h.id },
        el("td", {}, when(h.created_at), talk != null ? el("div", { class: "small muted" }, `${talk}s talk`) : null),
        el("td", {}, el("b", {}, h.subject || h.kind), el("div", { class: "small muted" }, `${h.kind} · ${h.direction}${h.contact ? " · " + h.contact : ""}`)),
        el("td", {}, h.status, h.closing_reason ? el("div", { class: "small muted" }, h.closing_reason) : null),
        el("td", {}, h.operator || "—"),
        el("td", {}, h.notes.map((n) => el("div", { class: "small" }, n.text))));
    }))));
}

// --- messages from the server -----------------------------------------------------------------

function onMessage(msg) {
  const d = view.desk;
  switch (msg.type) {
    case "snapshot":
      view.desk = msg.desk;
      timer.set(msg.desk.timer);
      paintState(); paintPop(); paintAttention(); paintFooter(msg.desk.footer);
      break;
    case "state":
      d.state = msg.state; d.reason = msg.reason; paintState();
      break;
    case "pop":
    case "pop_update":
      d.pop = msg.pop; paintPop(); paintState();
      if (d.attention && msg.type === "pop_update") paintFolder();
      if (msg.type === "pop") { view.messageId = null; paintMessageLink(); }
      break;
    case "connected":
      d.call = msg.call; d.timer = msg.timer; d.pop = msg.pop; d.attention = null;
      timer.set(msg.timer); paintState(); paintPop(); paintAttention();
      break;
    case "attention":
      if (!d.attention || d.attention.id !== msg.attention.id || !$("attention").contains(document.activeElement)) {
        if (!d.attention || d.attention.id !== msg.attention.id) { view.messageId = null; paintMessageLink(); }
        const had = !!d.attention;
        d.attention = msg.attention; paintAttention();
        if (!had) paintPop();
      } else {
        d.attention.call = msg.attention.call;
      }
      paintFooter(msg.footer);
      break;
    case "call_ended":
      d.call = msg.call; d.timer = null; timer.reset(); paintState(); paintFooter(msg.footer);
      if (d.pop) { d.pop.status = "ended"; paintPop(); }
      break;
    case "cleared":
      d.pop = null; d.call = null; d.timer = null; d.attention = null;
      timer.reset(); paintState(); paintPop(); paintAttention(); paintFooter(msg.footer);
      break;
    case "taken_over":
      showOverlay("Taken over", msg.message);
      break;
    default:
      break;
  }
}

function showOverlay(title, text) {
  $("overlay-title").textContent = title;
  $("overlay-text").textContent = text;
  $("overlay").classList.remove("hidden");
}

function onStatus(status) {
  $("link").replaceChildren(status === "live"
    ? el("span", { class: "chip ok" }, el("span", { class: "dot" }), "live")
    : el("span", { class: "chip warn" }, "reconnecting…"));
}

function onFinal(code, reason) {
  if (code === CLOSE_TAKEN_OVER) showOverlay("Taken over", "You signed in at another desk; this one is closed.");
  else showOverlay("Signed out", reason || "Your session ended.");
}

// --- start ------------------------------------------------------------------------------------

async function start() {
  let me;
  try { me = await api("GET", "/api/v1/me"); } catch { location.href = "/static/index.html"; return; }
  setCsrf(me.csrf);
  const boot = await api("GET", "/api/v1/desk");
  view.user = boot.user;
  view.lists = boot.lists;
  view.remoteAnswer = boot.remote_answer;
  view.desk = boot.desk;
  $("agent-name").textContent = boot.user.full_name;
  $("agent-group").textContent = [boot.user.routines.join(" · "), boot.user.group && `group ${boot.user.group}`].filter(Boolean).join(" — ");
  $("interface").value = boot.desk.interface || boot.user.extension || "";
  $("f-ideal").textContent = boot.user.ideal_talk_seconds ? `ideal ${boot.user.ideal_talk_seconds} s` : "no ideal set";
  $("f-operation-box").classList.toggle("hidden", !boot.user.routines.includes("telesales"));
  $("pause-reason").replaceChildren(...boot.lists.pause_reasons.map((r) => el("option", { value: r }, r)));

  socket = new DeskSocket({ onMessage, onStatus, onFinal });
  timer = new TalkTimer($("timer"), () => socket.serverNow());
  onMessage({ type: "snapshot", desk: boot.desk });
  socket.open();

  $("desk-signin").onclick = () => act(() => api("POST", "/api/v1/desk/signin", { interface: $("interface").value.trim() }));
  $("desk-signout").onclick = () => act(() => api("POST", "/api/v1/desk/signout"));
  $("pause").onclick = () => act(() => api("POST", "/api/v1/desk/pause", { reason: $("pause-reason").value }));
  $("resume").onclick = () => act(() => api("POST", "/api/v1/desk/resume"));
  $("answer").onclick = () => act(() => api("POST", "/api/v1/desk/answer"));
  $("hangup").onclick = () => act(() => api("POST", "/api/v1/desk/hangup"));
  $("transfer").onclick = () => act(async () => {
    const exten = $("transfer-to").value.trim();
    if (!exten) { toast("Type the extension to transfer to", true); return; }
    // The queues' numbers are in the first of the [desk] transfer contexts; the rest, extensions.
    const [queues, agents] = boot.transfer_contexts;
    await api("POST", "/api/v1/desk/transfer", { exten, context: /^500\d$/.test(exten) || !agents ? queues : agents });
  });
  $("clear").onclick = () => act(() => api("POST", "/api/v1/desk/clear"));
  $("attention").addEventListener("submit", saveAttention);
  $("logout").onclick = () => act(async () => {
    socket.stop();
    if (view.desk.signed_in) await api("POST", "/api/v1/desk/signout").catch(() => {});
    await api("POST", "/api/v1/logout");
    location.href = "/static/index.html";
  });
  $("overlay-go").onclick = () => { location.href = "/static/index.html"; };
  // My pending incoming-call messages and my cases, in a drawer (loaded once the desk's own
  // controls work); the back office for supervisors and admins.
  mountInbox({ button: $("inbox-open"), count: $("inbox-count"), drawer: $("inbox"), user: boot.user, toast });
  $("admin-link").classList.toggle("hidden", me.user.role === "operator");

  // Preview campaigns of my queues (refreshed every minute: a supervisor may start one). Loaded
  // after the buttons are wired, so the desk answers clicks at once.
  const preview = new PreviewCard($("preview"), toast);
  preview.load();
  setInterval(() => { if (!preview.lead) preview.load(); }, 60000);
}

start();
