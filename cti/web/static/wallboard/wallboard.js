// The wallboard: one WebSocket (/ws/wallboard) sends the whole board about once a second.
import { api, ApiError, clock, csrfToken, el, pct, sessionEnded } from "/static/js/api.js";
import { signInAgain, signOut, signedInSupervisor } from "./common.js";
import { Softphone } from "/static/js/softphone.js";

const CLOSE_TOO_SLOW = 4008;
const CLOSE_SESSION_ENDED = 4001;
const STATE_LABEL = {
  ready: "ready", ringing: "ringing", in_call: "on a call", wrap_up: "wrap-up",
  paused: "paused", offline: "offline",
};
const COLORS = {
  ok: "#22c55e", warn: "#f59e0b", bad: "#ef4444", info: "#3b82f6", paused: "#a78bfa",
  wrap: "#14b8a6", offline: "#475569", grid: "#27314f", ink: "#e8ecf6", muted: "#8b95b3",
};
const STATE_COLOR = {
  ready: COLORS.ok, ringing: COLORS.warn, in_call: COLORS.info, wrap_up: COLORS.wrap,
  paused: COLORS.paused, offline: COLORS.offline,
};

let board = null;        // the last frame
let offset = 0;          // server clock minus browser clock (ms)
let lists = { operators: [], pause_reasons: [] };
let charts = null;

const $ = (id) => document.getElementById(id);

function serverNow() { return Date.now() + offset; }

function toast(text, bad = false) {
  const t = $("toast");
  t.textContent = text;
  t.className = bad ? "toast bad" : "toast";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.add("hidden"), 3500);
}

// --- the stream ------------------------------------------------------------------------------

function connect() {
  let retry = 250;
  const open = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/wallboard`);
    setLink("connecting");
    ws.onopen = () => { retry = 250; setLink("live"); };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type !== "wallboard") return;
      offset = msg.now - Date.now();
      board = msg;
      render();
    };
    ws.onclose = (ev) => {
      if (ev.code === CLOSE_SESSION_ENDED || ev.code === 1000) { ended(); return; }
      setLink("reconnecting");
      const wait = ev.code === CLOSE_TOO_SLOW ? 50 : retry;
      retry = Math.min(retry * 2, 5000);
      // A socket refused at its handshake shows only as a close: ask whether the session ended.
      setTimeout(async () => { if (await sessionEnded()) ended(); else open(); }, wait);
    };
  };
  open();
}

function ended() {
  setLink("ended");
  signInAgain("wallboard", "Your session has ended. Sign in again to go on.");
}

function setLink(status) {
  const link = $("link");
  link.dataset.status = status;
  link.textContent = status === "live" ? "● live"
    : status === "reconnecting" ? "reconnecting…"
    : status === "ended" ? "session ended" : "connecting…";
}

// --- rendering -------------------------------------------------------------------------------

function render() {
  const b = board;
  const t = b.totals;
  $("day").textContent = b.day;
  $("pbx").replaceChildren(...Object.entries(b.pbx).map(([name, status]) =>
    el("span", { class: status === "connected" ? "" : "down" }, `${name} ${status === "connected" ? "up" : "down"}`)));

  setKpi("kpi-waiting", String(t.waiting), t.waiting === 0 ? "good" : t.longest_wait_seconds > b.service_level_seconds ? "bad" : "warn");
  setKpi("kpi-longest", clock(t.longest_wait_seconds), t.longest_wait_seconds > b.service_level_seconds ? "bad" : t.waiting ? "warn" : "good");
  setKpi("kpi-sl", pct(t.service_level), t.service_level === null ? "" : t.sla_breach ? "bad" : "good");
  $("sl-foot").textContent = `answered within ${b.service_level_seconds} s · target ${pct(b.service_level_target)}`;
  setKpi("kpi-answered", String(t.answered), "");
  setKpi("kpi-abandoned", String(t.abandoned), t.abandoned ? "warn" : "");
  const mix = $("kpi-agents").querySelector(".value");
  mix.replaceChildren(
    el("span", { class: "ready", title: "ready" }, t.agents.ready),
    el("span", { class: "in_call", title: "on a call" }, t.agents.in_call + t.agents.ringing),
    el("span", { class: "paused", title: "paused" }, t.agents.paused));

  renderQueues(b);
  renderSpies(b);
  renderCampaigns(b.campaigns, b.campaign_day);
  renderAgents(b);
  renderCharts(b);
}

function setKpi(id, value, tone) {
  const k = $(id);
  k.querySelector(".value").textContent = value;
  k.className = `kpi ${tone}`;
}

function renderQueues(b) {
  $("queues").replaceChildren(...b.queues.map((q) => {
    const over = q.longest_wait_seconds > b.service_level_seconds;
    const cls = q.sla_breach || over ? "queue breach" : q.service_level === null ? "queue nodata" : "queue";
    const ag = q.agents;
    return el("article", { class: cls, dataset: { queue: q.name } },
      el("div", { class: "head" },
        el("span", { class: "name" }, q.name),
        el("span", { class: "waiting" }, q.waiting, el("small", {}, "waiting"))),
      el("dl", {},
        el("div", {}, el("dt", {}, "Longest wait"), el("dd", { class: over ? "over" : "" }, clock(q.longest_wait_seconds))),
        el("div", {}, el("dt", {}, "Service level"), el("dd", { class: q.sla_breach ? "sl over" : "sl" }, pct(q.service_level))),
        el("div", {}, el("dt", {}, "Agents ready"), el("dd", {}, `${ag.ready}/${ag.ready + ag.in_call + ag.ringing + ag.wrap_up + ag.paused}`)),
        el("div", {}, el("dt", {}, "Answered"), el("dd", {}, q.answered)),
        el("div", {}, el("dt", {}, "Abandoned"), el("dd", {}, q.abandoned)),
        el("div", {}, el("dt", {}, "Avg wait · talk"), el("dd", {}, `${clock(q.avg_wait_seconds)} · ${clock(q.avg_talk_seconds)}`))));
  }));
}

// Every campaign (GET /api/v1/campaigns, refreshed every 10 s and after each action), with the
// live figures of the ones the dialer works taken from the latest frame.
let campaignList = [];

async function loadCampaigns() {
  try {
    campaignList = (await api("GET", "/api/v1/campaigns")).campaigns;
  } catch { /* no dialer, or a hiccup: keep what we had */ }
  if (board) renderCampaigns(board.campaigns, board.campaign_day);
}

function renderCampaigns(live, today) {
  const box = $("campaigns");
  const figures = new Map((live || []).map((c) => [String(c.id), c]));
  const day = new Map((today || []).map((c) => [String(c.id), c]));
  const rows = campaignList.length ? campaignList : (live || []);
  // Always shown: a new install creates its first campaign here.
  if (!rows.length) {
    box.querySelector("tbody").replaceChildren(el("tr", { class: "empty" },
      el("td", { colspan: 10 }, "No campaign yet: create one with “New campaign”, then add its leads.")));
    return;
  }
  box.querySelector("tbody").replaceChildren(...rows.map((row) => {
    const c = { ...row, ...(figures.get(String(row.id)) || {}) };
    const live = figures.has(String(row.id));
    const running = c.status === "running";
    return el("tr", { dataset: { campaign: c.id, status: c.status } },
      el("td", {}, c.name), el("td", {}, c.mode), el("td", { class: `status ${c.status}` }, c.status),
      el("td", { class: "num" }, live ? Number(c.dial_level).toFixed(2) : "—"),
      el("td", { class: "num" }, live ? pct(c.answer_rate, 1) : "—"),
      el("td", { class: c.over_cap ? "num over" : "num" }, live ? `${pct(c.abandon_rate, 1)} / ${pct(c.abandon_cap, 1)}` : "—"),
      el("td", { class: "num" }, live ? c.calls_in_progress : "—"),
      el("td", { class: "num" }, live ? c.leads_left : "—"),
      el("td", { class: "num today" }, todayText(day.get(String(row.id)))),
      el("td", { class: "actions" },
        running
          ? el("button", { type: "button", class: "pause", onclick: () => campaignAct(c, "pause") }, "Pause")
          : el("button", { type: "button", class: "resume", disabled: c.status === "finished", onclick: () => campaignAct(c, "start") }, "Start"),
        el("button", { type: "button", disabled: c.status === "finished", onclick: () => campaignAct(c, "stop") }, "Stop"),
        el("button", { type: "button", onclick: () => askPacing(c) }, "Pacing"),
        el("button", { type: "button", disabled: c.status === "finished", title: "Add leads from a CSV file (phone, name, customer_code, timezone, priority)", onclick: () => uploadLeads(c) }, "Leads…")));
  }));
}

// Today's dial attempts of a campaign, answered and abandoned (from the database: kept across
// restarts, equal to the campaigns report for the day).
function todayText(d) {
  return d ? `${d.attempts} · ${d.answered} · ${d.abandoned}` : "0 · 0 · 0";
}

function uploadLeads(c) {
  const input = $("leads-file");
  input.value = "";
  input.onchange = async () => {
    const file = input.files[0];
    if (!file) return;
    const resp = await fetch(`/api/v1/campaigns/${c.id}/leads`, {
      method: "POST", credentials: "same-origin", body: file,
      headers: { "Content-Type": "text/csv", "X-CSRF-Token": csrfToken() },
    });
    const data = await resp.json().catch(() => ({}));
    if (resp.ok) {
      toast(`${c.name}: ${data.stored} lead${data.stored === 1 ? "" : "s"} added`);
      await loadCampaigns();
    } else if (data.rows) {
      const first = data.rows.slice(0, 3).map((r) => `row ${r.row} ${r.field}: ${r.reason}`).join("; ");
      toast(`Nothing stored — ${data.rows.length} problem${data.rows.length === 1 ? "" : "s"}: ${first}`, true);
    } else {
      toast(data.error || `HTTP ${resp.status}`, true);
    }
  };
  input.click();
}

function newCampaign() {
  const dialog = $("campaign-dialog");
  const form = $("campaign-form");
  $("campaign-error").textContent = "";
  $("campaign-go").onclick = async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const days = f.getAll("day").map(Number);
    const body = {
      name: f.get("name").trim(), kind: f.get("kind"), mode: f.get("mode"), queue: f.get("queue").trim(),
      ring_seconds: Number(f.get("ring_seconds")), abandon_cap: Number(f.get("abandon_cap")) / 100,
      amd: f.get("amd") === "on", record: f.get("record") === "on", windows: [{ days, start: f.get("start"), end: f.get("end") }],
    };
    if (f.get("caller_id").trim()) body.caller_id = f.get("caller_id").trim();
    try {
      await api("POST", "/api/v1/campaigns", body);
      dialog.close();
      toast(`${body.name} created as a draft`);
      await loadCampaigns();
    } catch (e) {
      $("campaign-error").textContent = e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : String(e.message || e);
    }
  };
  dialog.showModal();
}

async function campaignAct(c, verb) {
  await act(`/api/v1/campaigns/${c.id}/${verb}`, undefined, `${c.name}: ${verb === "stop" ? "stopped" : verb === "start" ? "started" : "paused"}`);
  await loadCampaigns();
}

function askPacing(c) {
  const dialog = $("pacing-dialog");
  $("pacing-who").textContent = c.name;
  $("pacing-mode").value = c.mode;
  $("pacing-cap").value = c.abandon_cap != null ? (100 * c.abandon_cap).toFixed(1) : "3.0";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "ok") return;
    try {
      await api("PATCH", `/api/v1/campaigns/${c.id}/pacing`, {
        mode: $("pacing-mode").value, abandon_cap: Number($("pacing-cap").value) / 100,
      });
      toast(`${c.name}: pacing changed`);
      await loadCampaigns();
    } catch (e) {
      toast(e instanceof ApiError ? e.message : String(e), true);
    }
  };
  dialog.showModal();
}

// Listen / whisper / barge sessions running now, each with a Stop; they end with the call.
const SPY_LABEL = { listen: "listening to", whisper: "whispering to", barge: "barging in on" };

function renderSpies(b) {
  const spies = b.spies || [];
  $("spies").classList.toggle("hidden", spies.length === 0);
  const names = new Map(b.agents.map((a) => [a.interface, a.name]));
  const now = serverNow();
  $("spy-list").replaceChildren(...spies.map((s) => el("li", { dataset: { spy: s.id, agent: s.agent || "" } },
    el("b", {}, s.supervisor_name || s.phone), ` ${SPY_LABEL[s.mode] || "listening to"} `,
    el("b", {}, names.get(s.agent) || s.agent || "a call"), " · ",
    el("span", { dataset: { since: Date.parse(s.since) } }, clock((now - Date.parse(s.since)) / 1000)),
    el("button", { type: "button", class: "stop", onclick: () => stopSpy(s) }, "Stop"))));
}

function stopSpy(s) {
  act("/api/v1/supervisor/spy/stop", { id: s.id }, "listening stopped");
}

function renderAgents(b) {
  const now = serverNow();
  $("agents").replaceChildren(...b.agents.map((a) => {
    const inState = (now - a.since_ms) / 1000;
    const call = a.call
      ? el("div", { class: "call" }, `☎ ${a.call.caller_name || a.call.caller_num || "caller"} `,
          el("span", { class: "muted" }, a.call.queue ? `· ${a.call.queue} ` : ""),
          el("b", { dataset: { started: a.call.started_ms } }, clock((now - a.call.started_ms) / 1000)))
      : el("div", { class: "call muted" }, a.state === "paused" && a.reason ? `reason: ${a.reason}`
        : a.state === "wrap_up" ? "after-call work: no call offered" : "");
    const longPause = a.state === "paused" && inState > 900;
    const onCall = a.state === "in_call";
    return el("article", { class: "agent", dataset: { state: a.state, interface: a.interface, pbx: a.pbx } },
      el("div", { class: "row" }, el("span", { class: "name", title: a.name }, a.name), el("span", { class: "state" }, STATE_LABEL[a.state] || a.state)),
      el("div", { class: "row" },
        el("span", { class: longPause ? "since long" : "since", dataset: { since: a.since_ms } }, clock(inState)),
        el("span", { class: "taken" }, `${a.calls_taken} call${a.calls_taken === 1 ? "" : "s"} · ${clock(a.talk_seconds)} talk`,
          el("span", { class: "wrapped", title: "Time in after-call work today" }, ` · ${clock(a.wrapup_seconds || 0)} wrap-up`))),
      call,
      el("div", { class: "row" }, el("span", { class: "iface" }, a.interface)),
      el("div", { class: "actions" },
        el("button", { type: "button", disabled: !onCall, title: "Listen to the call", onclick: () => spy(a, "listen") }, "Listen"),
        el("button", { type: "button", disabled: !onCall, title: "Talk to the agent only", onclick: () => spy(a, "whisper") }, "Whisper"),
        el("button", { type: "button", disabled: !onCall, title: "Talk to both", onclick: () => spy(a, "barge") }, "Barge"),
        a.state === "paused"
          ? el("button", { type: "button", class: "resume", onclick: () => resume(a) }, "Resume")
          : el("button", { type: "button", class: "pause", disabled: a.state === "offline", onclick: () => askPause(a) }, "Pause")));
  }));
}

// Between frames, keep the clocks on the tiles running.
function tickClocks() {
  const now = serverNow();
  document.querySelectorAll("[data-since]").forEach((n) => { n.textContent = clock((now - Number(n.dataset.since)) / 1000); });
  document.querySelectorAll("[data-started]").forEach((n) => { n.textContent = clock((now - Number(n.dataset.started)) / 1000); });
  $("clock").textContent = new Date(now).toLocaleTimeString([], { hour12: false });
}

// --- charts (Chart.js, vendored) ------------------------------------------------------------

function makeCharts() {
  const C = window.Chart;
  C.defaults.color = COLORS.muted;
  C.defaults.borderColor = COLORS.grid;
  C.defaults.font.size = 13;
  C.defaults.animation = false;
  const common = { responsive: true, maintainAspectRatio: false, plugins: { legend: { labels: { boxWidth: 12 } } } };
  return {
    hourly: new C($("chart-hourly"), {
      type: "bar",
      data: { labels: [...Array(24).keys()].map((h) => `${h}h`), datasets: [
        { label: "answered", data: [], backgroundColor: COLORS.ok, stack: "c" },
        { label: "abandoned", data: [], backgroundColor: COLORS.bad, stack: "c" }] },
      options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    sl: new C($("chart-sl"), {
      type: "bar",
      data: { labels: [], datasets: [{ label: "service level %", data: [], backgroundColor: [] }] },
      options: { ...common, indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } },
    }),
    trend: new C($("chart-trend"), {
      type: "line",
      data: { labels: [], datasets: [
        { label: "waiting", data: [], borderColor: COLORS.warn, backgroundColor: "rgba(245,158,11,.15)", fill: true, tension: .3, pointRadius: 0 },
        { label: "on a call", data: [], borderColor: COLORS.info, tension: .3, pointRadius: 0 },
        { label: "ready", data: [], borderColor: COLORS.ok, tension: .3, pointRadius: 0 }] },
      options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    agents: new C($("chart-agents"), {
      type: "doughnut",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderColor: "#141b2e" }] },
      options: { ...common, cutout: "62%", plugins: { legend: { position: "right" } } },
    }),
  };
}

function renderCharts(b) {
  if (!window.Chart) return;
  charts = charts || makeCharts();
  charts.hourly.data.datasets[0].data = b.hourly.answered;
  charts.hourly.data.datasets[1].data = b.hourly.abandoned;
  charts.hourly.update();

  const withData = b.queues;
  charts.sl.data.labels = withData.map((q) => q.name);
  charts.sl.data.datasets[0].data = withData.map((q) => (q.service_level === null ? 0 : Math.round(q.service_level * 100)));
  charts.sl.data.datasets[0].backgroundColor = withData.map((q) => (q.service_level === null ? COLORS.offline : q.sla_breach ? COLORS.bad : COLORS.ok));
  charts.sl.update();

  charts.trend.data.labels = b.trend.map((p) => new Date(p.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false }));
  charts.trend.data.datasets[0].data = b.trend.map((p) => p.waiting);
  charts.trend.data.datasets[1].data = b.trend.map((p) => p.in_call);
  charts.trend.data.datasets[2].data = b.trend.map((p) => p.ready);
  charts.trend.update();

  const states = Object.entries(b.totals.agents).filter(([, n]) => n > 0);
  charts.agents.data.labels = states.map(([s]) => STATE_LABEL[s]);
  charts.agents.data.datasets[0].data = states.map(([, n]) => n);
  charts.agents.data.datasets[0].backgroundColor = states.map(([s]) => STATE_COLOR[s]);
  charts.agents.update();
}

// --- interventions ---------------------------------------------------------------------------

async function act(path, body, done) {
  // A POST with no fields still sends an empty JSON object.
  body = body === undefined ? {} : body;
  try {
    const answer = await api("POST", path, body);
    toast(typeof done === "function" ? done(answer || {}) : done);
  } catch (e) {
    toast(e instanceof ApiError ? e.message : String(e), true);
  }
}

function spy(agent, mode) {
  act("/api/v1/supervisor/spy", { interface: agent.interface, pbx: agent.pbx, mode },
    `${mode}: your phone rings to join ${agent.name}'s call`);
}

function resume(agent) {
  act("/api/v1/supervisor/resume", { interface: agent.interface, pbx: agent.pbx }, (a) =>
    a.wrapup_released ? `${agent.name} is available again; their attention stays pending, flagged`
      : a.deferred ? `${agent.name} will be ready once their call and wrap-up are over`
      : `${agent.name} resumed`);
}

function askPause(agent) {
  const dialog = $("pause-dialog");
  $("pause-who").textContent = agent.name;
  $("pause-reason").replaceChildren(...lists.pause_reasons.map((r) => el("option", { value: r }, r)));
  $("pause-go").disabled = lists.pause_reasons.length === 0;
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok") return;
    const reason = $("pause-reason").value;
    act("/api/v1/supervisor/pause", { interface: agent.interface, pbx: agent.pbx, reason }, (a) =>
      a.deferred ? `${agent.name} will be paused (${reason}) once their call and wrap-up are over` : `${agent.name} paused`);
  };
  dialog.showModal();
}

function openReassign() {
  const dialog = $("reassign-dialog");
  const label = (o) => `${o.name} (${o.open_attentions} open)`;
  $("reassign-from").replaceChildren(...lists.operators.filter((o) => o.open_attentions > 0).map((o) => el("option", { value: o.id }, label(o))));
  $("reassign-to").replaceChildren(...lists.operators.map((o) => el("option", { value: o.id }, label(o))));
  dialog.onclose = async () => {
    if (dialog.returnValue !== "ok") return;
    try {
      const res = await api("POST", "/api/v1/supervisor/attentions/reassign", {
        from_operator_id: Number($("reassign-from").value), to_operator_id: Number($("reassign-to").value),
      });
      toast(`${res.moved.length} attention${res.moved.length === 1 ? "" : "s"} moved`);
      await loadLists();
    } catch (e) {
      toast(e instanceof ApiError ? e.message : String(e), true);
    }
  };
  dialog.showModal();
}

async function loadLists() {
  try { lists = await api("GET", "/api/v1/supervisor/lists"); } catch { /* keep the old lists */ }
  const mine = $("my-phone");
  if (lists && document.activeElement !== mine) mine.value = (lists.me?.extension) || "";
}

async function savePhone(ev) {
  ev.preventDefault();
  try {
    const res = await api("PUT", "/api/v1/supervisor/phone", { phone: $("my-phone").value.trim() });
    $("my-phone").value = res.phone;
    toast(`Listening rings ${res.phone}`);
  } catch (e) {
    toast(e instanceof ApiError ? e.message : String(e), true);
  }
}

// A supervisor whose phone is the browser listens, whispers and barges with it: the page
// registers it, makes it the phone listening rings, and answers those calls by itself (they are
// the ones she just asked for).
const WB_PHONE = {
  off: "browser phone off", connecting: "browser phone connecting…", registered: "browser phone ready",
  unregistered: "browser phone not registered", failed: "browser phone failed",
};

async function mountBrowserPhone(user) {
  const chip = $("wb-phone");
  chip.classList.remove("hidden");
  const phone = new Softphone({
    audio: $("wb-audio"),
    onChange: (p) => {
      if (p.ringing) p.answer();
      chip.textContent = p.call === "up" ? "listening on this browser" : WB_PHONE[p.status] || p.status;
      chip.dataset.status = p.call === "up" ? "live" : p.status === "registered" ? "live" : "down";
      $("wb-hangup").classList.toggle("hidden", !p.inCall);
    },
  });
  $("wb-hangup").addEventListener("click", () => phone.hangup());
  $("signout").addEventListener("click", () => phone.stop(), { capture: true });
  await phone.start();
  const mine = `PJSIP/${phone.account.username}`;
  if (user.extension !== mine || $("my-phone").value !== mine) {
    const res = await api("PUT", "/api/v1/supervisor/phone", { phone: mine });
    $("my-phone").value = res.phone;
  }
  $("my-phone").readOnly = true;
}

async function main() {
  const user = await signedInSupervisor("wallboard");
  $("signout").addEventListener("click", signOut);
  $("reassign-open").addEventListener("click", async () => { await loadLists(); openReassign(); });
  await loadLists();
  await loadCampaigns();
  setInterval(loadCampaigns, 10000);
  $("campaign-new").addEventListener("click", newCampaign);
  $("my-phone-form").addEventListener("submit", savePhone);
  if (user.softphone) mountBrowserPhone(user).catch((e) => toast(e instanceof ApiError ? e.message : String(e), true));
  connect();
  setInterval(tickClocks, 1000);
  tickClocks();
}

main();
