// The agent desk: wires the socket, the pop, the talk timer, the attention form and the footer.
import { api, ApiError, el, setCsrf, when, showError, clearErrors } from "./api.js";
import { loadI18n, t, N_, fmt, languagePicker, pauseReason } from "./i18n.js";
import { DeskSocket, CLOSE_TAKEN_OVER, CLOSE_SESSION_ENDED } from "./socket.js";
import { TalkTimer } from "./timer.js";
import { renderPop } from "./pop.js";
import { PreviewCard } from "./preview.js";
import { mountInbox } from "./inbox.js";
import { CustomerPicker } from "./customer_picker.js";
import { Softphone } from "./softphone.js";
import { mountTransfer } from "./desk-transfer.js";
import telemarketing from "./folders/telemarketing.js";
import telesales from "./folders/telesales.js";
import collection from "./folders/collection.js";

const FOLDERS = [telemarketing, telesales, collection];
const STATES = {
  offline: [N_("Offline"), "grey"], ready: [N_("Ready"), "ok"], paused: [N_("Paused"), "warn"],
  ringing: [N_("Ringing"), ""], in_call: [N_("On a call"), ""], wrap_up: [N_("Wrap-up"), "warn"],
};
// What the server sends as words (an attention's status, kind and direction; a pop's status).
const WORDS = {
  pending: N_("pending"), planned: N_("planned"), closed: N_("closed"), cancelled: N_("cancelled"),
  telemarketing: N_("telemarketing"), telesales: N_("telesales"), collection: N_("collection"),
  inbound: N_("inbound"), outbound: N_("outbound"), ringing: N_("ringing"), answered: N_("answered"),
  ended: N_("ended"), transfer: N_("transfer"), transfer_cancelled: N_("transfer cancelled"),
  ready: N_("ready"), paused: N_("paused"),
};
const word = (w) => (w in WORDS ? t(WORDS[w]) : w);
const $ = (id) => document.getElementById(id);
// The screen shown: pop, attention and history always of one call.
const screen = () => view.viewing || view.desk;

// messageId: the pending incoming-call message the open attention acts on (finalized on save).
// held: screens ({pop, attention}) of earlier calls whose attention is still open, each in its own
// tab until it is disposed; viewing: the held screen shown (null: the current call's).
const view = { user: null, lists: null, remoteAnswer: false, desk: null, folder: null, footer: null, messageId: null, held: [], viewing: null, dirtyId: null };
let socket;
let timer;
// The desk's own phone (WebRTC) for a user whose phone is the browser; null for a SIP phone.
let phone = null;
// The transfer dialog (desk-transfer.js).
let transfer = null;

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
  // A call put straight through (a transfer) holds the member paused for its wrap-up: while
  // its timer runs the agent is on it.
  const [raw, tone] = d.timer ? STATES.in_call : STATES[d.state] || [d.state, "grey"];
  const label = t(raw);
  $("state").className = `chip ${tone}`;
  const stateText = d.state === "paused" && d.reason ? `${label} · ${pauseReason(d.reason)}` : label;
  // A Pause or Resume pressed while a call rings waits for the ring to end: the chip says so.
  $("state-text").textContent = d.after_ring ? t("{state} · then {next}", { state: stateText, next: word(d.after_ring) }) : stateText;
  $("phone-off").classList.toggle("hidden", d.signed_in);
  $("phone-on").classList.toggle("hidden", !d.signed_in);
  $("phone-label").textContent = d.signed_in ? `${d.interface} · ${d.queues.join(", ")}` : "";
  $("phone-label").title = $("phone-label").textContent; // whole where the header cuts it short
  // Signed in, but the PBX cannot reach the phone: say so, or the agent waits for calls that
  // never come.
  const unreachable = d.signed_in && d.phone_unavailable;
  $("phone-warning").classList.toggle("hidden", !unreachable);
  $("phone-warning").textContent = unreachable
    ? t("Your phone {phone} is not registered: no call can reach you. Start your softphone (or check its network); the desk turns ready by itself once it registers.", { phone: d.interface })
    : "";
  if (phone) phone.follow(d);
  const inCall = !!(d.timer) || !!phone?.inCall;
  $("hangup").disabled = !inCall;
  $("stop-recording").disabled = !d.timer;
  transfer?.paint(d);
  // A transfer rings the phone outside any queue: its pop says so (desk-transfer.js).
  const canAnswer = phone ? phone.ringing : view.remoteAnswer && (d.state === "ringing" || d.pop?.status === "transfer");
  $("answer").classList.toggle("hidden", !canAnswer);
  // In wrap-up, Pause and Resume choose what the agent is once it ends.
  const wrapping = !!d.wrapup;
  const paused = wrapping
    ? d.wrapup.then !== "ready"
    : d.after_ring ? d.after_ring !== "ready" : d.state === "paused";
  $("pause").classList.toggle("hidden", paused);
  $("pause").textContent = wrapping ? t("Pause after wrap-up") : t("Pause");
  $("pause-reason").classList.toggle("hidden", paused);
  $("resume").classList.toggle("hidden", !paused);
  $("resume").textContent = wrapping ? t("Ready after wrap-up") : t("Resume");
  paintWrapup();
}

// --- after-call work ---------------------------------------------------------------------------

function clock(secs) {
  const s = Math.max(0, Math.floor(secs));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

// The wrap-up banner: how long so far (and how long at most), what is left to do, and what the
// agent will be once it ends. Repainted every second while it shows.
function paintWrapup() {
  const w = view.desk?.wrapup;
  $("wrapup").classList.toggle("hidden", !w);
  if (!w) return;
  const now = socket ? socket.serverNow() : Date.now();
  $("wrapup-timer").textContent = clock((now - w.started_ms) / 1000);
  $("wrapup-limit").textContent = w.until_ms
    ? t("ends by itself in {time}", { time: clock((w.until_ms - now) / 1000) })
    : t("no time limit");
  $("wrapup-todo").textContent = w.todo
    ? t("No call is offered to you until you {todo}.", { todo: t(w.todo) })
    : t("The attention is disposed: finish wrap-up to take calls again.");
  const then = w.then === "ready" ? t("ready") : w.then.replace(/^paused/, t("paused"));
  $("wrapup-then").textContent = t("Then you are {state}.", { state: then });
}

// Today's time paused, as the pauses report counts it: the pauses that ended and the one going on
// (a new day counts from its start).
function paintPausedToday() {
  const p = view.desk?.paused_today;
  if (!p) { $("f-paused").textContent = "—"; return; }
  const now = socket ? socket.serverNow() : Date.now();
  const newDay = now >= p.day_ends_ms;
  const since = p.since_ms == null ? null : newDay ? Math.max(p.since_ms, p.day_ends_ms) : p.since_ms;
  const seconds = (newDay ? 0 : p.seconds) + (since == null ? 0 : Math.max(0, (now - since) / 1000));
  $("f-paused").textContent = clock(seconds);
}

function paintFooter(f) {
  if (!f) return;
  view.footer = f;
  const last = f.last_call;
  $("f-last").textContent = last ? `${last.caller || "?"} · ${clock(last.talk_seconds)} · ${when(last.at)}` : "—";
  $("f-operator").textContent = f.operator || "—";
  $("f-status").textContent = f.attention_status ? word(f.attention_status) : "—";
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
  // A masked caller id is no one's name: the agent types the one the caller gives.
  const name = el("input", { placeholder: t("Name"), value: pop.masked ? "" : pop.caller_name || "", id: "reg-name" });
  const company = el("input", { placeholder: t("Company"), id: "reg-company" });
  const customer = new CustomerPicker({ id: "reg-customer", label: t("Customer"), placeholder: t("Customer: name, code, tax id or phone") });
  const kind = el("select", { id: "reg-kind", onchange: () => paintKind() },
    el("option", { value: "suspect" }, t("New suspect")), el("option", { value: "contact" }, t("Contact of a customer")));
  const paintKind = () => {
    const contact = kind.value === "contact";
    company.classList.toggle("hidden", contact);
    customer.root.classList.toggle("hidden", !contact);
  };
  const go = el("button", { type: "button", class: "primary", id: "reg-go", onclick: () => act(async () => {
    const body = { kind: kind.value, name: name.value.trim() };
    if (kind.value === "suspect") { if (company.value.trim()) body.company = company.value.trim(); }
    else if (customer.value) body.customer_id = customer.value;
    else { customer.focus(); toast(t("Pick the customer this contact belongs to"), true); return; }
    await api("POST", "/api/v1/desk/register", body);
    toast(t("Caller registered"));
  }) }, t("Register"));
  paintKind();
  const node = el("div", { class: "pop-section", id: "register" }, el("h3", {}, t("Unknown number")),
    el("div", { style: "display:grid;gap:8px" }, kind, name, company, customer.root, go));
  Object.assign(registering, { popId: pop.id, node });
  return node;
}

function paintPop() {
  const pop = screen().pop;
  $("pop-empty").classList.toggle("hidden", !!pop);
  const body = $("pop-body");
  body.classList.toggle("hidden", !pop);
  $("pop").classList.toggle("ringing", !!pop && pop.status === "ringing");
  body.replaceChildren(...(pop ? renderPop(pop, { routines: view.user.routines, registerForm, handleMessage, messageId: view.messageId, attention: screen().attention }) : []));
}

// "Handle in this attention": saving the attention finalizes the message (an action made from it).
function handleMessage(m) {
  view.messageId = view.messageId === m.id ? null : m.id;
  paintMessageLink(); paintPop();
}

function paintMessageLink() {
  const box = $("message-link");
  box.classList.toggle("hidden", !view.messageId);
  box.textContent = view.messageId ? t("Saving finalizes incoming-call message #{id}", { id: view.messageId }) : "";
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
  const a = screen().attention;
  const mine = folders();
  $("folders").replaceChildren(...mine.map((f) => el("button", {
    type: "button", class: `tab${f === view.folder ? " active" : ""}`, "data-folder": f.routine,
    onclick: () => { view.folder = f; paintFolder(); },
  }, t(f.title))));
  $("folders").classList.toggle("hidden", mine.length < 2);
  const body = $("folder-body");
  const key = `${view.folder.routine}:${a ? a.id : ""}`;
  if (force || body.dataset.key !== key) {
    body.dataset.key = key;
    body.replaceChildren(view.folder.render({ attention: a, pop: screen().pop, lists: view.lists, toast, changed: refreshOperation }));
  }
  const kind = view.folder.routine;
  const reasons = view.lists.closing_reasons.filter((r) => !r.kind || r.kind === kind);
  $("closing-reason").replaceChildren(el("option", { value: "" }, "—"),
    ...reasons.map((r) => el("option", { value: r.id, selected: a && a.closing_reason_id === r.id }, r.name)));
}

function paintAttention() {
  const a = screen().attention;
  $("attention-empty").classList.toggle("hidden", !!a);
  $("attention").classList.toggle("hidden", !a);
  $("attention-party").textContent = a ? partyName(a) : "";
  $("attention-id").textContent = a ? t("#{id} · {direction} · opened {when}", { id: a.id, direction: word(a.direction), when: when(a.created_at) }) : "";
  $("attention-flag").classList.toggle("hidden", !(a?.wrapup_overrun && a.status === "pending"));
  if (!a) {
    view.messageId = null; paintMessageLink(); loadHistory(null);
    document.dispatchEvent(new CustomEvent("cti:screen", { detail: { attention: null, pop: null } }));
    return;
  }
  const same = view.folder && $("folder-body").dataset.key === `${view.folder.routine}:${a.id}`;
  if (!same) view.folder = folders().find((f) => f.routine === a.kind) || folders()[0];
  paintFolder();
  $("status").value = a.status;
  $("next-call").value = localInput(a.next_call_at);
  $("notes").replaceChildren(...(a.notes.length ? a.notes.map((n) => el("div", { class: "note" },
    el("div", { class: "meta" }, `${n.author} · ${when(n.at)}`), el("div", {}, n.text))) : [el("div", { class: "muted small" }, t("No notes yet."))]));
  view.dirtyId = null; // the form shows the attention as stored
  loadHistory(a);
  // script-runner.js: the campaign script of the screen shown.
  document.dispatchEvent(new CustomEvent("cti:screen", { detail: { attention: a, pop: screen().pop } }));
}

// Who an attention is with, as the attention gives it (masked as the pop is for an operator
// without personal data).
function partyName(a) {
  return [a.contact, a.customer].filter(Boolean).join(" · ") || a.phone || t("Unknown caller");
}

// --- one caller per screen --------------------------------------------------------------------

// A new call never replaces a screen whose attention is still open: that screen moves to its own
// tab (pop, attention and history together) until the attention is saved with a status.
function holdOpenAttention(newPopId) {
  const d = view.desk;
  if (!d.attention || (d.pop && d.pop.id === newPopId)) return;
  if (d.attention.status === "pending" && !view.held.some((h) => h.attention.id === d.attention.id)) {
    // A note being typed belongs to that attention: it goes with it.
    const draft = view.viewing ? d.draft : $("note").value;
    view.held.push({ pop: d.pop, attention: d.attention, draft });
  }
  if (!view.viewing) $("note").value = "";
  d.draft = "";
  d.attention = null;
  paintScreens();
}

function show(held) {
  if (held === view.viewing) return;
  // The note being typed stays with its own attention.
  screen().draft = $("note").value;
  view.viewing = held;
  $("note").value = screen().draft || "";
  view.messageId = null; paintMessageLink();
  paintScreens(); paintPop(); paintAttention();
}

function paintScreens() {
  const nav = $("screens");
  nav.classList.toggle("hidden", view.held.length === 0);
  const live = el("button", { type: "button", class: `tab${view.viewing ? "" : " active"}`, "data-screen": "live", onclick: () => show(null) },
    view.desk.pop ? t("Current call · {status}", { status: word(view.desk.pop.status) }) : t("Current call"));
  nav.replaceChildren(live, ...view.held.map((h) => el("button", {
    type: "button", class: `tab${view.viewing === h ? " active" : ""}`, "data-screen": h.attention.id,
    title: t("An earlier call whose attention is still open: save it with a status to close this tab"),
    onclick: () => show(h),
  }, t("{party} · #{id} open", { party: partyName(h.attention), id: h.attention.id }))));
}

// The telesales folder made or changed a quote or order: the footer's operation follows.
async function refreshOperation() {
  const a = screen().attention;
  if (!a) return;
  // The pop of the call on screen lists open quotes, orders and debts: looked up again after the
  // agent's own (its update arrives as a pop_update frame).
  if (!view.viewing && view.desk.pop?.phone) api("POST", "/api/v1/desk/pop/refresh").catch(() => {});
  const fresh = await api("GET", `/api/v1/desk/attentions/${a.id}`);
  const shown = screen().attention;
  if (shown && shown.id === fresh.id) {
    shown.operation = fresh.operation;
    paintFooter({ ...(view.footer || {}), operation: fresh.operation ? fresh.operation.label : null });
  }
}

async function saveAttention(ev) {
  ev.preventDefault();
  const a = screen().attention;
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
    const saved = await api("GET", `/api/v1/desk/attentions/${a.id}`);
    const held = view.viewing;
    if (held && held.attention.id === saved.id && saved.status !== "pending") {
      // Disposed: its tab closes, back to the current call.
      view.held = view.held.filter((h) => h !== held);
      held.draft = "";
      show(null);
      toast(t("Attention #{id} saved; back to your current call", { id: saved.id }));
      return;
    }
    screen().attention = saved;
    if (held) paintScreens();
    // A folder that shows what saving did (the tickets' statuses) is drawn again from the answer.
    if (view.folder.repaintOnSave) $("folder-body").dataset.key = "";
    paintAttention();
    toast(t("Attention saved"));
  } catch (e) {
    showError(form, e, $("form-error"));
  }
}

// A call's recording, played in place (the browser asks for ranges to seek; each playback is
// audited; users without the personal-data permission get no button, and the server refuses).
function recordingButton(id) {
  const button = el("button", { type: "button", class: "ghost small", "data-recording": id }, t("▶ Recording"));
  button.onclick = () => {
    const player = el("audio", { controls: true, preload: "none", src: `/api/v1/recordings/${id}` });
    button.replaceWith(player);
    player.play().catch(() => {});
  };
  return button;
}

async function loadHistory(a) {
  const box = $("history");
  if (!a) { box.replaceChildren(el("div", { class: "empty" }, t("The history of the caller appears here."))); $("history-of").textContent = ""; return; }
  const [party, id, label] = a.customer_id ? ["customer", a.customer_id, a.customer]
    : a.contact_id ? ["contact", a.contact_id, a.contact]
    : a.suspect_id ? ["suspect", a.suspect_id, a.contact]
    : a.prospect_id ? ["prospect", a.prospect_id, ""] : [null, null, ""];
  if (!party) { box.replaceChildren(el("div", { class: "empty" }, t("Unknown caller: no history."))); $("history-of").textContent = ""; return; }
  $("history-of").textContent = label || "";
  const { attentions, masked } = await api("GET", `/api/v1/desk/history/${party}/${id}`);
  $("history-of").textContent = `${label || ""}${masked ? ` · ${t("personal data masked")}` : ""}`;
  if (!attentions.length) { box.replaceChildren(el("div", { class: "empty" }, t("No attentions yet."))); return; }
  box.replaceChildren(el("table", { id: "history-table" },
    el("thead", {}, el("tr", {}, [t("When"), t("Attention"), t("Status"), t("Operator"), t("Notes")].map((h) => el("th", {}, h)))),
    el("tbody", {}, attentions.map((h) => {
      const talk = h.answered_at && h.ended_at ? Math.round((new Date(h.ended_at) - new Date(h.answered_at)) / 1000) : null;
      return el("tr", { "data-attention": h.id },
        el("td", {}, when(h.created_at), talk != null ? el("div", { class: "small muted" }, t("{time} talk", { time: clock(talk) })) : null,
          h.recording_id && !masked ? recordingButton(h.recording_id) : null,
          el("button", { type: "button", class: "ghost small", "data-dial": `attention:${h.id}`, title: t("Call this number") }, t("☎ Call"))),
        el("td", {}, el("b", {}, h.subject || word(h.kind)), el("div", { class: "small muted" }, `${word(h.kind)} · ${word(h.direction)}${h.contact ? ` · ${h.contact}` : ""}`)),
        el("td", {}, word(h.status), h.closing_reason ? el("div", { class: "small muted" }, h.closing_reason) : null),
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
      paintState(); paintPop(); paintAttention(); paintFooter(msg.desk.footer); paintPausedToday();
      break;
    case "state":
      d.state = msg.state; d.reason = msg.reason; d.phone_unavailable = !!msg.phone_unavailable; paintState();
      break;
    case "missed_pause":
      // cti paused the agent after calls rang out unanswered: callers go to their colleagues.
      toast(msg.missed === 1
        ? t("A call rang out unanswered: you are paused so that callers go to your colleagues. Resume when you can take calls.")
        : t("{count} calls in a row rang out unanswered: you are paused so that callers go to your colleagues. Resume when you can take calls.", { count: msg.missed }), true);
      break;
    case "pop":
    case "pop_update":
      if (msg.type === "pop") {
        // A new call rings: its own screen shows (an open attention keeps its tab).
        holdOpenAttention(msg.pop.id);
        show(null);
      }
      d.pop = msg.pop; paintState(); paintScreens();
      if (!view.viewing) paintPop();
      if (msg.type === "pop") paintAttention();
      if (d.attention && msg.type === "pop_update" && !view.viewing) paintFolder();
      if (msg.type === "pop") { view.messageId = null; paintMessageLink(); }
      break;
    case "connected":
      holdOpenAttention(msg.pop.id);
      d.call = msg.call; d.timer = msg.timer; d.pop = msg.pop; d.attention = null;
      timer.set(msg.timer); paintState(); paintScreens();
      if (!view.viewing) { paintPop(); paintAttention(); }
      break;
    case "attention": {
      document.dispatchEvent(new CustomEvent("cti:attention")); // desk-dial.js: pending calls
      const held = view.held.find((h) => h.attention.id === msg.attention.id);
      if (held) {
        // An earlier call's attention changed (its wrap-up flag): its own tab follows.
        held.attention = msg.attention;
        if (view.viewing === held) paintAttention();
        paintScreens();
        break;
      }
      // The same attention refreshed (its call's times, its wrap-up flag) never overwrites what
      // the agent is typing or has chosen and not saved yet.
      const editing = $("attention").contains(document.activeElement) || view.dirtyId === msg.attention.id;
      if (!d.attention || d.attention.id !== msg.attention.id || !editing) {
        if (!view.viewing && (!d.attention || d.attention.id !== msg.attention.id)) { view.messageId = null; paintMessageLink(); }
        const had = !!d.attention;
        d.attention = msg.attention;
        if (!view.viewing) { paintAttention(); if (!had) paintPop(); }
      } else {
        d.attention.call = msg.attention.call;
      }
      paintFooter(msg.footer);
      break;
    }
    case "call_ended":
      d.call = msg.call; d.timer = null; timer.reset(); paintState(); paintFooter(msg.footer);
      if (d.pop) { d.pop.status = "ended"; if (!view.viewing) paintPop(); paintScreens(); }
      if (msg.footer?.last_call && msg.footer.last_call.ended_by === "lost") {
        toast(t("The PBX lost this call (it restarted or failed). The attention stays pending: save what you have."), true);
      }
      break;
    case "wrapup":
      d.wrapup = msg.wrapup; paintState();
      if (msg.released && msg.released_by === "supervisor") toast(t("Your supervisor made you available: you take calls again. The attention stays pending and is flagged: save it when you can."), true);
      else if (msg.released) toast(t("Your maximum wrap-up time is over: you take calls again. The attention stays pending and is flagged: save it when you can."), true);
      break;
    case "paused_today":
      d.paused_today = msg.paused_today; paintPausedToday();
      break;
    case "after_ring":
      d.after_ring = msg.after_ring; paintState();
      break;
    case "cleared":
      document.dispatchEvent(new CustomEvent("cti:attention")); // desk-dial.js: it may be pending again
      d.pop = null; d.call = null; d.timer = null; d.attention = null;
      timer.reset(); paintState(); paintScreens(); paintFooter(msg.footer);
      if (!view.viewing) { paintPop(); paintAttention(); }
      break;
    case "taken_over":
      showOverlay(t("Taken over"), t(msg.message));
      break;
    default:
      // Frames another module of the desk handles (desk-dial.js: dial_failed).
      document.dispatchEvent(new CustomEvent(`cti:${msg.type}`, { detail: msg }));
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
    ? el("span", { class: "chip ok" }, el("span", { class: "dot" }), t("live"))
    : status === "ended"
      ? el("span", { class: "chip bad" }, t("session ended"))
      : el("span", { class: "chip warn" }, t("reconnecting…")));
}

// The browser phone's line in the header: registration, microphone, quality, call controls.
const PHONE_STATUS = {
  off: [N_("phone off"), "grey"], connecting: [N_("phone connecting…"), "warn"], registered: [N_("phone ready"), "ok"],
  unregistered: [N_("phone not registered"), "bad"], failed: [N_("phone failed"), "bad"],
};

function paintPhone(p) {
  const [raw, tone] = PHONE_STATUS[p.status] || [p.status, "grey"];
  const label = t(raw);
  const text = p.call === "ringing" ? t("ringing") : p.call === "up" ? (p.held ? t("on hold") : t("in call")) : label;
  $("sp-status").className = `chip ${p.call === "ringing" ? "warn" : tone}`;
  const shown = p.simulated && p.call === "idle" && p.status === "registered" ? t("{state} · simulated PBX", { state: text }) : text;
  $("sp-status").textContent = p.error && p.status !== "registered" ? `${text}: ${p.error}` : shown;
  $("sp-status").title = $("sp-status").textContent;
  $("sp-mic").style.width = `${Math.round(p.level * 100)}%`;
  const q = p.quality;
  $("sp-quality").textContent = q ? `${t("quality {label}", { label: t(q.label) })}${q.rtt != null ? ` · ${Math.round(q.rtt)} ms` : ""}${q.lost ? ` · ${t("{percent}% lost", { percent: q.lost.toFixed(1) })}` : ""}` : "";
  $("sp-quality").dataset.quality = q ? q.label : "";
  // Packets each way, for whoever checks that audio flows (the title, and the browser tests).
  $("sp-quality").dataset.sent = q ? q.sent : 0;
  $("sp-quality").dataset.received = q ? q.received : 0;
  $("sp-quality").dataset.setup = p.setupMs ?? "";
  const counted = q && t("audio packets sent {sent}, received {received}; jitter {jitter} ms", {
    sent: fmt.number(q.sent), received: fmt.number(q.received), jitter: fmt.number(Math.round(q.jitter || 0)),
  });
  const setup = p.setupMs != null ? `; ${t("audio {ms} ms after answering", { ms: fmt.number(p.setupMs) })}` : "";
  $("sp-quality").title = q ? `${counted}${setup}` : "";
  const up = p.call === "up";
  for (const id of ["sp-mute", "sp-hold", "sp-keys"]) $(id).disabled = !up;
  $("sp-mute").textContent = p.muted ? t("Unmute") : t("Mute");
  $("sp-hold").textContent = p.held ? t("Resume call") : t("Hold");
  if (!up) $("sp-keypad").classList.add("hidden");
  if (view.desk) paintState();
}

function mountPhone() {
  phone = new Softphone({ onChange: paintPhone, audio: $("sp-audio"), onRegistered: () => act(takeCallBack) });
  $("softphone").classList.remove("hidden");
  $("sp-mute").onclick = () => phone.toggleMute();
  $("sp-hold").onclick = () => phone.toggleHold();
  $("sp-keys").onclick = () => {
    // The keypad opens under its button (the header places the phone's items, see app.css).
    $("sp-keypad").style.left = `${$("sp-keys").offsetLeft}px`;
    $("sp-keypad").classList.toggle("hidden");
  };
  $("sp-keypad").replaceChildren(..."123456789*0#".split("").map((tone) =>
    el("button", { type: "button", class: "ghost", "data-tone": tone, onclick: () => phone.dtmf(tone) }, tone)));
  paintPhone(phone);
}

// A reload (or a network blip that ended the phone's call) mid-call took this page's phone leg
// with it, not the caller, who is still on the PBX: once the phone registers again, cti rings it
// with that caller and the page answers by itself. The call goes on: same pop, timer, attention.
async function takeCallBack() {
  if (phone.simulated || phone.inCall || !view.desk.timer) return;
  phone.answerBackUntil = Date.now() + 25000;
  await api("POST", "/api/v1/desk/call/recover");
  toast(t("Your call is coming back to this page…"));
}

function onFinal(code, reason) {
  if (phone) phone.stop();
  onStatus("ended");
  if (code === CLOSE_TAKEN_OVER) showOverlay(t("Taken over"), t("You signed in at another desk; this one is closed."));
  else if (code === CLOSE_SESSION_ENDED) showOverlay(t("Session ended"), t(reason || "Your session has ended. Sign in again to go on."));
  else showOverlay(t("Signed out"), t(reason || "Your session ended."));
}

// --- start ------------------------------------------------------------------------------------

async function start() {
  await loadI18n();
  let me;
  try { me = await api("GET", "/api/v1/me"); } catch { location.href = "/static/index.html"; return; }
  setCsrf(me.csrf);
  const boot = await api("GET", "/api/v1/desk");
  view.user = boot.user;
  view.lists = boot.lists;
  view.remoteAnswer = boot.remote_answer;
  view.desk = boot.desk;
  $("agent-name").textContent = boot.user.full_name;
  $("agent-group").textContent = [boot.user.routines.map(word).join(" · "), boot.user.group && t("group {name}", { name: boot.user.group })].filter(Boolean).join(" — ");
  $("interface").value = boot.desk.interface || boot.user.extension || "";
  $("f-ideal").textContent = boot.user.ideal_talk_seconds ? t("ideal {seconds} s", { seconds: boot.user.ideal_talk_seconds }) : t("no ideal set");
  $("f-operation-box").classList.toggle("hidden", !boot.user.routines.includes("telesales"));
  $("pause-reason").replaceChildren(...boot.lists.pause_reasons.map((r) => el("option", { value: r }, r)));

  socket = new DeskSocket({ onMessage, onStatus, onFinal });
  timer = new TalkTimer($("timer"), () => socket.serverNow());
  onMessage({ type: "snapshot", desk: boot.desk });
  socket.open();

  if (me.user.softphone) {
    // The phone is this page: it registers before the desk joins the queues, and again after a
    // reload of a desk already signed in.
    mountPhone();
    if (boot.desk.signed_in) act(() => phone.start());
  }
  $("desk-signin").onclick = () => act(async () => {
    if (phone) await phone.start();
    await api("POST", "/api/v1/desk/signin", { interface: $("interface").value.trim() });
  });
  $("desk-signout").onclick = () => act(async () => {
    await api("POST", "/api/v1/desk/signout");
    if (phone) phone.stop();
  });
  // On a call (or in wrap-up) a pause or a resume takes effect once the wrap-up ends; while a
  // call rings, once the ring ends (or after the wrap-up, if the agent answers).
  const when = () => {
    if (view.desk.wrapup) return null;
    if (view.desk.state === "in_call") return t("after this call's wrap-up");
    if (view.desk.state === "ringing") return t("when this call stops ringing (after its wrap-up if you answer it)");
    return null;
  };
  $("pause").onclick = () => act(async () => {
    const later = when();
    await api("POST", "/api/v1/desk/pause", { reason: $("pause-reason").value });
    if (later) toast(t("You will be paused ({reason}) {when}", { reason: $("pause-reason").value, when: later }));
  });
  $("resume").onclick = () => act(async () => {
    const later = when();
    await api("POST", "/api/v1/desk/resume");
    if (later) toast(t("You will be ready {when}", { when: later }));
  });
  $("answer").onclick = () => act(async () => { if (phone) await phone.answer(); else await api("POST", "/api/v1/desk/answer"); });
  $("hangup").onclick = () => act(async () => { if (phone?.inCall) await phone.hangup(); else await api("POST", "/api/v1/desk/hangup"); });
  transfer = mountTransfer({ toast, act });
  transfer.paint(view.desk);
  $("clear").onclick = () => act(() => api("POST", "/api/v1/desk/clear"));
  $("stop-recording").onclick = () => act(async () => {
    await api("POST", "/api/v1/desk/recording/stop");
    toast(t("Recording stopped: what was said until now is kept"));
  });
  $("wrapup-finish").onclick = () => act(() => api("POST", "/api/v1/desk/wrapup/finish"));
  // Clickable once it does something (a click while the page loads was lost).
  $("desk-signin").disabled = false;
  setInterval(paintWrapup, 1000);
  setInterval(paintPausedToday, 1000);
  $("attention").addEventListener("submit", saveAttention);
  // A field changed and not saved yet: a refresh of the same attention keeps it.
  const touched = () => { view.dirtyId = screen().attention?.id ?? null; };
  $("attention").addEventListener("input", touched);
  $("attention").addEventListener("change", touched);
  $("logout").onclick = () => act(async () => {
    socket.stop();
    if (view.desk.signed_in) await api("POST", "/api/v1/desk/signout").catch(() => {});
    if (phone) phone.stop();
    await api("POST", "/api/v1/logout");
    location.href = "/static/index.html";
  });
  $("overlay-go").onclick = () => { location.href = "/static/index.html"; };
  // My pending incoming-call messages and my cases, in a drawer (loaded once the desk's own
  // controls work); the back office for supervisors and admins.
  mountInbox({ button: $("inbox-open"), count: $("inbox-count"), drawer: $("inbox"), user: boot.user, toast });
  $("admin-link").classList.toggle("hidden", me.user.role === "operator");
  // The language the desk speaks to me (mine, else my browser's).
  $("logout").before(languagePicker((language) => api("PUT", "/api/v1/me/language", { language })));

  // Preview campaigns of my queues (refreshed every minute: a supervisor may start one). Loaded
  // after the buttons are wired, so the desk answers clicks at once.
  const preview = new PreviewCard($("preview"), toast);
  preview.load();
  setInterval(() => { if (!preview.lead) preview.load(); }, 60000);
}

start();
