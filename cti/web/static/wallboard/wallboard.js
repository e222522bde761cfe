// The wallboard: one WebSocket (/ws/wallboard) sends the whole board about once a second.
import { api, ApiError, clock, csrfToken, el, sessionEnded } from "/static/js/api.js";
import { fmt, language, languagePicker, loadI18n, N_, pauseReason, t } from "/static/js/i18n.js";
import { signInAgain, signOut, signedInSupervisor } from "./common.js";
import { Softphone } from "/static/js/softphone.js";

const CLOSE_TOO_SLOW = 4008;
const CLOSE_SESSION_ENDED = 4001;
const STATE_LABEL = {
  ready: N_("ready"), ringing: N_("ringing"), in_call: N_("on a call"), wrap_up: N_("wrap-up"),
  paused: N_("paused"), offline: N_("offline"),
};
const stateLabel = (s) => (s in STATE_LABEL ? t(STATE_LABEL[s]) : s);
// A call no queue gave the agent (a queue's call shows its queue).
const CALL_KIND = {
  outbound: N_("outbound call"), consult: N_("consultation"), direct: N_("direct call"),
};
// What the server sends as words: a campaign's mode and status.
const WORDS = {
  preview: N_("preview"), progressive: N_("progressive"), predictive: N_("predictive"),
  draft: N_("draft"), running: N_("running"), paused: N_("paused"), finished: N_("finished"),
};
const word = (w) => (w in WORDS ? t(WORDS[w]) : w);
const pct = (v, digits = 0) => fmt.percent(v, digits);
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
  const box = $("toast");
  box.textContent = text;
  box.className = bad ? "toast bad" : "toast";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.add("hidden"), 3500);
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
  signInAgain(t("wallboard"), t("Your session has ended. Sign in again to go on."));
}

function setLink(status) {
  const link = $("link");
  link.dataset.status = status;
  link.textContent = status === "live" ? `● ${t("live")}`
    : status === "reconnecting" ? t("reconnecting…")
    : status === "ended" ? t("session ended") : t("connecting…");
}

// --- rendering -------------------------------------------------------------------------------

function render() {
  const b = board;
  const tot = b.totals;
  $("day").textContent = fmt.date(b.day);
  $("pbx").replaceChildren(...Object.entries(b.pbx).map(([name, status]) =>
    el("span", { class: status === "connected" ? "" : "down" }, (status === "connected" ? t("{pbx} up", { pbx: name }) : t("{pbx} down", { pbx: name })))));

  setKpi("kpi-waiting", fmt.number(tot.waiting), tot.waiting === 0 ? "good" : tot.longest_wait_seconds > b.service_level_seconds ? "bad" : "warn");
  setKpi("kpi-longest", clock(tot.longest_wait_seconds), tot.longest_wait_seconds > b.service_level_seconds ? "bad" : tot.waiting ? "warn" : "good");
  setKpi("kpi-sl", pct(tot.service_level), tot.service_level === null ? "" : tot.sla_breach ? "bad" : "good");
  $("sl-foot").textContent = t("answered within {seconds} s · target {target}", { seconds: b.service_level_seconds, target: pct(b.service_level_target) });
  setKpi("kpi-answered", fmt.number(tot.answered), "");
  setKpi("kpi-abandoned", fmt.number(tot.abandoned), tot.abandoned ? "warn" : "");
  const mix = $("kpi-agents").querySelector(".value");
  mix.replaceChildren(
    el("span", { class: "ready", title: t("ready") }, tot.agents.ready),
    el("span", { class: "in_call", title: t("on a call") }, tot.agents.in_call + tot.agents.ringing),
    el("span", { class: "paused", title: t("paused") }, tot.agents.paused));

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
        el("span", { class: "waiting" }, q.waiting, el("small", {}, t("waiting")))),
      el("dl", {},
        el("div", {}, el("dt", {}, t("Longest wait")), el("dd", { class: over ? "over" : "" }, clock(q.longest_wait_seconds))),
        el("div", {}, el("dt", {}, t("Service level")), el("dd", { class: q.sla_breach ? "sl over" : "sl" }, pct(q.service_level))),
        el("div", {}, el("dt", {}, t("Agents ready")), el("dd", {}, `${ag.ready}/${ag.ready + ag.in_call + ag.ringing + ag.wrap_up + ag.paused}`)),
        el("div", {}, el("dt", {}, t("Answered")), el("dd", {}, fmt.number(q.answered))),
        el("div", {}, el("dt", {}, t("Abandoned")), el("dd", {}, fmt.number(q.abandoned))),
        el("div", {}, el("dt", {}, t("Avg wait · talk")), el("dd", {}, `${clock(q.avg_wait_seconds)} · ${clock(q.avg_talk_seconds)}`))));
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
      el("td", { colspan: 10 }, t("No campaign yet: create one with “New campaign”, then add its leads."))));
    return;
  }
  box.querySelector("tbody").replaceChildren(...rows.map((row) => {
    const c = { ...row, ...(figures.get(String(row.id)) || {}) };
    const live = figures.has(String(row.id));
    const running = c.status === "running";
    return el("tr", { dataset: { campaign: c.id, status: c.status } },
      el("td", {}, c.name), el("td", {}, word(c.mode)), el("td", { class: `status ${c.status}` }, word(c.status)),
      el("td", { class: "num" }, live ? fmt.number(c.dial_level, 2) : "—"),
      el("td", { class: "num" }, live ? pct(c.answer_rate, 1) : "—"),
      el("td", { class: c.over_cap ? "num over" : "num" }, live ? `${pct(c.abandon_rate, 1)} / ${pct(c.abandon_cap, 1)}` : "—"),
      el("td", { class: "num" }, live ? fmt.number(c.calls_in_progress) : "—"),
      el("td", { class: "num" }, live ? fmt.number(c.leads_left) : "—"),
      el("td", { class: "num today" }, todayText(day.get(String(row.id)))),
      el("td", { class: "actions" }, el("div", { class: "acts" },
        running
          ? el("button", { type: "button", class: "pause", onclick: () => campaignAct(c, "pause") }, t("Pause"))
          : el("button", { type: "button", class: "resume", disabled: c.status === "finished", onclick: () => campaignAct(c, "start") }, t("Start")),
        el("button", { type: "button", disabled: c.status === "finished", onclick: () => campaignAct(c, "stop") }, t("Stop")),
        el("button", { type: "button", onclick: () => askPacing(c) }, t("Pacing")),
        el("button", { type: "button", disabled: c.status === "finished", title: t("Add leads from a CSV file (phone, name, customer_code, timezone, priority)"), onclick: () => uploadLeads(c) }, t("Leads…")))));
  }));
}

// Today's dial attempts of a campaign, answered and abandoned (from the database: kept across
// restarts, equal to the campaigns report for the day).
function todayText(d) {
  return d ? [d.attempts, d.answered, d.abandoned].map((n) => fmt.number(n)).join(" · ") : "0 · 0 · 0";
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
      toast(data.stored === 1 ? t("{campaign}: 1 lead added", { campaign: c.name }) : t("{campaign}: {n} leads added", { campaign: c.name, n: fmt.number(data.stored) }));
      await loadCampaigns();
    } else if (data.rows) {
      const first = data.rows.slice(0, 3).map((r) => t("row {row} {field}: {reason}", r)).join("; ");
      toast(data.rows.length === 1 ? t("Nothing stored — 1 problem: {first}", { first })
        : t("Nothing stored — {n} problems: {first}", { n: data.rows.length, first }), true);
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
      toast(t("{campaign} created as a draft", { campaign: body.name }));
      await loadCampaigns();
    } catch (e) {
      $("campaign-error").textContent = e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : String(e.message || e);
    }
  };
  dialog.showModal();
}

async function campaignAct(c, verb) {
  const done = verb === "stop" ? t("{campaign}: stopped", { campaign: c.name }) : verb === "start" ? t("{campaign}: started", { campaign: c.name }) : t("{campaign}: paused", { campaign: c.name });
  await act(`/api/v1/campaigns/${c.id}/${verb}`, undefined, done);
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
      toast(t("{campaign}: pacing changed", { campaign: c.name }));
      await loadCampaigns();
    } catch (e) {
      toast(e instanceof ApiError ? e.message : String(e), true);
    }
  };
  dialog.showModal();
}

// Listen / whisper / barge sessions running now, each with a Stop; they end with the call.
const SPY_LABEL = { listen: N_("{supervisor} is listening to {agent}"), whisper: N_("{supervisor} is whispering to {agent}"), barge: N_("{supervisor} is barging in on {agent}") };

function renderSpies(b) {
  const spies = b.spies || [];
  $("spies").classList.toggle("hidden", spies.length === 0);
  const names = new Map(b.agents.map((a) => [a.interface, a.name]));
  const now = serverNow();
  $("spy-list").replaceChildren(...spies.map((s) => el("li", { dataset: { spy: s.id, agent: s.agent || "" } },
    ...spyWords(t(SPY_LABEL[s.mode] || SPY_LABEL.listen), {
      supervisor: el("b", {}, s.supervisor_name || s.phone),
      agent: el("b", {}, names.get(s.agent) || s.agent || t("a call")),
    }), " · ",
    el("span", { dataset: { since: Date.parse(s.since) } }, clock((now - Date.parse(s.since)) / 1000)),
    el("button", { type: "button", class: "stop", onclick: () => stopSpy(s) }, t("Stop")))));
}

function stopSpy(s) {
  act("/api/v1/supervisor/spy/stop", { id: s.id }, t("listening stopped"));
}

function renderAgents(b) {
  const now = serverNow();
  $("agents").replaceChildren(...b.agents.map((a) => {
    const inState = (now - a.since_ms) / 1000;
    const call = a.call
      ? el("div", { class: "call" }, `☎ ${a.call.caller_name || a.call.caller_num || t("caller")} `,
          el("span", { class: "muted" }, a.call.queue ? `· ${a.call.queue} ` : ""),
          a.call.kind in CALL_KIND ? el("span", { class: "kind", dataset: { kind: a.call.kind } }, `· ${t(CALL_KIND[a.call.kind])} `) : "",
          el("b", { dataset: { started: a.call.started_ms } }, clock((now - a.call.started_ms) / 1000)))
      : el("div", { class: "call muted" }, a.state === "paused" && a.reason ? t("reason: {reason}", { reason: pauseReason(a.reason) })
        : a.state === "wrap_up" ? t("after-call work: no call offered") : "");
    const longPause = a.state === "paused" && inState > 900;
    const onCall = a.state === "in_call";
    // Today's totals so far: the call or the wrap-up going on counts as well (the server adds
    // each when it ends; its call is counted from the answer).
    const talk = a.talk_seconds + (onCall && a.call ? Math.max(0, (now - a.call.started_ms) / 1000) : 0);
    const wrapped = (a.wrapup_seconds || 0) + (a.state === "wrap_up" ? Math.max(0, inState) : 0);
    const paused = pausedToday(a, now);
    return el("article", { class: "agent", dataset: { state: a.state, interface: a.interface, pbx: a.pbx } },
      el("div", { class: "row" }, el("span", { class: "name", title: a.name }, a.name), el("span", { class: "state" }, stateLabel(a.state))),
      el("div", { class: "row" },
        el("span", { class: longPause ? "since long" : "since", dataset: { since: a.since_ms } }, clock(inState)),
        el("span", { class: "taken" }, a.calls_taken === 1 ? t("1 call · {talk} talk", { talk: clock(talk) }) : t("{n} calls · {talk} talk", { n: fmt.number(a.calls_taken), talk: clock(talk) }),
          el("span", { class: "wrapped", title: t("Time in after-call work today") }, ` · ${t("{time} wrap-up", { time: clock(wrapped) })}`))),
      call,
      el("div", { class: "row" }, el("span", { class: "iface" }, a.interface),
        el("span", { class: "paused-today", title: t("Time paused today, for any reason"), dataset: { pauseSeconds: a.pause_seconds || 0, pausedSince: a.paused_since_ms ?? "" } },
          t("{time} paused", { time: clock(paused) }))),
      el("div", { class: "actions" },
        el("button", { type: "button", disabled: !onCall, title: t("Listen to the call"), onclick: () => spy(a, "listen") }, t("Listen")),
        el("button", { type: "button", disabled: !onCall, title: t("Talk to the agent only"), onclick: () => spy(a, "whisper") }, t("Whisper")),
        el("button", { type: "button", disabled: !onCall, title: t("Talk to both"), onclick: () => spy(a, "barge") }, t("Barge")),
        a.state === "paused"
          ? el("button", { type: "button", class: "resume", onclick: () => resume(a) }, t("Resume"))
          : el("button", { type: "button", class: "pause", disabled: a.state === "offline", onclick: () => askPause(a) }, t("Pause"))));
  }));
}

// Today's time paused: the pauses that ended, and the one going on (from today's midnight).
function pausedToday(a, now) {
  return (a.pause_seconds || 0) + (a.paused_since_ms != null ? Math.max(0, (now - a.paused_since_ms) / 1000) : 0);
}

// Between frames, keep the clocks on the tiles running.
function tickClocks() {
  const now = serverNow();
  document.querySelectorAll("[data-paused-since]").forEach((n) => {
    const since = n.dataset.pausedSince;
    n.textContent = t("{time} paused", { time: clock(pausedToday({ pause_seconds: Number(n.dataset.pauseSeconds), paused_since_ms: since === "" ? null : Number(since) }, now)) });
  });
  document.querySelectorAll("[data-since]").forEach((n) => { n.textContent = clock((now - Number(n.dataset.since)) / 1000); });
  document.querySelectorAll("[data-started]").forEach((n) => { n.textContent = clock((now - Number(n.dataset.started)) / 1000); });
  $("clock").textContent = fmt.time(now, true);
}

// --- charts (Chart.js, vendored) ------------------------------------------------------------

function makeCharts() {
  const C = window.Chart;
  C.defaults.color = COLORS.muted;
  C.defaults.locale = language(); // the ticks' numbers as the page's language writes them
  C.defaults.borderColor = COLORS.grid;
  C.defaults.font.size = 13;
  C.defaults.animation = false;
  const common = { responsive: true, maintainAspectRatio: false, plugins: { legend: { labels: { boxWidth: 12 } } } };
  const lone = (ctx) => (ctx.chart.data.labels.length < 2 ? 4 : 0);
  return {
    hourly: new C($("chart-hourly"), {
      type: "bar",
      data: { labels: [...Array(24).keys()].map((h) => `${h}h`), datasets: [
        { label: t("answered|calls"), data: [], backgroundColor: COLORS.ok, stack: "c" },
        { label: t("abandoned|calls"), data: [], backgroundColor: COLORS.bad, stack: "c" }] },
      options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    sl: new C($("chart-sl"), {
      type: "bar",
      data: { labels: [], datasets: [{ label: t("service level %"), data: [], backgroundColor: [] }] },
      options: { ...common, indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 100, ticks: { callback: (v) => fmt.percent(v / 100, 0) } } } },
    }),
    // Lines without points; a lone sample (the first minute after cti starts) is a dot, not nothing.
    trend: new C($("chart-trend"), {
      type: "line",
      data: { labels: [], datasets: [
        { label: t("waiting"), data: [], borderColor: COLORS.warn, backgroundColor: "rgba(245,158,11,.15)", fill: true, tension: .3, pointRadius: lone },
        { label: t("on a call"), data: [], borderColor: COLORS.info, tension: .3, pointRadius: lone },
        { label: t("ready"), data: [], borderColor: COLORS.ok, tension: .3, pointRadius: lone }] },
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

  charts.trend.data.labels = b.trend.map((p) => fmt.time(p.at));
  charts.trend.data.datasets[0].data = b.trend.map((p) => p.waiting);
  charts.trend.data.datasets[1].data = b.trend.map((p) => p.in_call);
  charts.trend.data.datasets[2].data = b.trend.map((p) => p.ready);
  charts.trend.update();

  const states = Object.entries(b.totals.agents).filter(([, n]) => n > 0);
  charts.agents.data.labels = states.map(([s]) => stateLabel(s));
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

const SPY_RINGS = {
  listen: N_("listen: your phone rings to join {agent}'s call"),
  whisper: N_("whisper: your phone rings to join {agent}'s call"),
  barge: N_("barge: your phone rings to join {agent}'s call"),
};

// A translated sentence with {fields} filled by elements (the names in bold).
function spyWords(text, parts) {
  return text.split(/(\{\w+\})/).filter(Boolean).map((bit) => {
    const name = bit.slice(1, -1);
    return bit.startsWith("{") && name in parts ? parts[name] : bit;
  });
}

function spy(agent, mode) {
  act("/api/v1/supervisor/spy", { interface: agent.interface, pbx: agent.pbx, mode },
    t(SPY_RINGS[mode], { agent: agent.name }));
}

function resume(agent) {
  act("/api/v1/supervisor/resume", { interface: agent.interface, pbx: agent.pbx }, (a) =>
    a.wrapup_released ? t("{agent} is available again; their attention stays pending, flagged", { agent: agent.name })
      : a.deferred ? t("{agent} will be ready once their call and wrap-up are over", { agent: agent.name })
      : t("{agent} resumed", { agent: agent.name }));
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
      a.deferred ? t("{agent} will be paused ({reason}) once their call and wrap-up are over", { agent: agent.name, reason })
        : t("{agent} paused", { agent: agent.name }));
  };
  dialog.showModal();
}

function openReassign() {
  const dialog = $("reassign-dialog");
  const label = (o) => t("{name} ({n} open)", { name: o.name, n: fmt.number(o.open_attentions) });
  $("reassign-from").replaceChildren(...lists.operators.filter((o) => o.open_attentions > 0).map((o) => el("option", { value: o.id }, label(o))));
  $("reassign-to").replaceChildren(...lists.operators.map((o) => el("option", { value: o.id }, label(o))));
  dialog.onclose = async () => {
    if (dialog.returnValue !== "ok") return;
    try {
      const res = await api("POST", "/api/v1/supervisor/attentions/reassign", {
        from_operator_id: Number($("reassign-from").value), to_operator_id: Number($("reassign-to").value),
      });
      toast(res.moved.length === 1 ? t("1 attention moved") : t("{n} attentions moved", { n: fmt.number(res.moved.length) }));
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
  // What the supervisor typed and has not saved yet is kept.
  if (lists && document.activeElement !== mine && !mine.dataset.edited) mine.value = (lists.me?.extension) || "";
}

async function savePhone(ev) {
  ev.preventDefault();
  try {
    const res = await api("PUT", "/api/v1/supervisor/phone", { phone: $("my-phone").value.trim() });
    $("my-phone").value = res.phone;
    delete $("my-phone").dataset.edited;
    toast(t("Listening rings {phone}", { phone: res.phone }));
  } catch (e) {
    toast(e instanceof ApiError ? e.message : String(e), true);
  }
}

// A supervisor whose phone is the browser listens, whispers and barges with it: the page
// registers it, makes it the phone listening rings, and answers those calls by itself (they are
// the ones she just asked for).
const WB_PHONE = {
  off: N_("browser phone off"), connecting: N_("browser phone connecting…"), registered: N_("browser phone ready"),
  unregistered: N_("browser phone not registered"), failed: N_("browser phone failed"),
};

async function mountBrowserPhone(user) {
  const chip = $("wb-phone");
  chip.classList.remove("hidden");
  const phone = new Softphone({
    audio: $("wb-audio"),
    onChange: (p) => {
      if (p.ringing) p.answer();
      chip.textContent = p.call === "up" ? t("listening on this browser") : p.status in WB_PHONE ? t(WB_PHONE[p.status]) : p.status;
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
  await loadI18n();
  document.title = `cti · ${t("wallboard")}`;
  const user = await signedInSupervisor(t("wallboard"));
  // The language the wallboard speaks to me (mine, else my browser's).
  $("signout").before(languagePicker((language) => api("PUT", "/api/v1/me/language", { language })));
  $("signout").addEventListener("click", signOut);
  $("reassign-open").addEventListener("click", async () => { await loadLists(); openReassign(); });
  await loadLists();
  await loadCampaigns();
  setInterval(loadCampaigns, 10000);
  $("campaign-new").addEventListener("click", newCampaign);
  $("my-phone-form").addEventListener("submit", savePhone);
  $("my-phone").addEventListener("input", () => { $("my-phone").dataset.edited = "1"; });
  // Clickable once it does something (before, a click submitted the form natively: the page
  // reloaded and what was typed was lost).
  $("my-phone-save").disabled = false;
  if (user.softphone) mountBrowserPhone(user).catch((e) => toast(e instanceof ApiError ? e.message : String(e), true));
  connect();
  setInterval(tickClocks, 1000);
  tickClocks();
}

main();
