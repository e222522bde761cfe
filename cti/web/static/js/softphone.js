// The desk's phone in the browser (WebRTC): registers the agent's softphone account that cti
// issues (POST /api/v1/desk/softphone), rings in the browser, answers, hangs up, holds, mutes,
// sends DTMF, and shows the microphone level and the call's quality. SIP over WebSocket is JsSIP
// (vendor/jssip, loaded before this module as window.JsSIP). Against cti's simulator (the demo),
// which speaks no SIP, the phone is simulated: it rings and answers through the desk's API, with
// no media.
import { api } from "./api.js";
import { N_ } from "./i18n.js";

const QUALITY_EVERY_MS = 2000;
// The longest an answer waits for a STUN or TURN server's candidate (a server out of reach would
// otherwise hold it until the browser gives up on it, many seconds).
const ICE_WAIT_MS = 1500;

// A ring made by the browser itself (no sound file): 440 + 480 Hz, 2 s on, 4 s off.
class Ringer {
  constructor() { this.ctx = null; this.timer = null; this.nodes = []; }
  start() {
    if (this.timer) return;
    try { this.ctx = this.ctx || new AudioContext(); } catch { return; }
    const burst = () => {
      const gain = this.ctx.createGain();
      gain.gain.value = 0.08;
      gain.connect(this.ctx.destination);
      for (const hz of [440, 480]) {
        const osc = this.ctx.createOscillator();
        osc.frequency.value = hz;
        osc.connect(gain);
        osc.start();
        osc.stop(this.ctx.currentTime + 2);
        this.nodes.push(osc);
      }
    };
    burst();
    this.timer = setInterval(burst, 6000);
  }
  stop() {
    clearInterval(this.timer);
    this.timer = null;
    for (const osc of this.nodes) { try { osc.stop(); } catch { /* already stopped */ } }
    this.nodes = [];
  }
}

export class Softphone {
  // onChange(phone) is called on every change of registration, call, hold, mute, level or quality.
  constructor({ onChange, audio, onRegistered = null }) {
    this.onChange = onChange;
    // Called each time the phone becomes registered (at start, and again after a lost link).
    this.onRegistered = onRegistered;
    this.audio = audio;
    this.ua = null;
    this.session = null;
    this.account = null;
    this.status = "off"; // off | connecting | registered | unregistered | failed
    this.error = "";
    this.call = "idle"; // idle | ringing | calling | up
    this.held = false;
    this.muted = false;
    this.level = 0;
    this.quality = null; // { rtt, jitter, lost, label }
    this.ringer = new Ringer();
    this.meter = null;
    this.stats = null;
    this.simulated = false;
    // Milliseconds from the Answer click to the first audio packet received (call setup).
    this.setupMs = null;
    // Until when an incoming call is the caller this page asked back (ms since the epoch).
    this.answerBackUntil = 0;
  }

  get ringing() { return this.call === "ringing"; }
  get inCall() { return this.call !== "idle"; }

  async start() {
    if (this.ua) return;
    const JsSIP = window.JsSIP;
    if (!JsSIP) throw new Error("the softphone library did not load");
    this.account = await api("POST", "/api/v1/desk/softphone");
    if (this.account.simulated) {
      this.simulated = true;
      this.ua = { stop() {} };
      this.set({ status: "registered", error: "" });
      return;
    }
    const socket = new JsSIP.WebSocketInterface(this.account.ws_url);
    this.ua = new JsSIP.UA({
      sockets: [socket],
      uri: this.account.uri,
      authorization_user: this.account.username,
      password: this.account.password,
      display_name: this.account.display_name,
      register: true,
      register_expires: 120,
      session_timers: false,
      user_agent: "cti desk",
      // After Asterisk restarts or the network drops, reconnect and register again by itself,
      // retrying from 2 s up to every 10 s (the desk says "phone not registered" meanwhile).
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 10,
    });
    this.status = "connecting";
    this.ua.on("registered", () => {
      const again = this.status !== "registered"; // not a refresh of a registration that held
      this.set({ status: "registered", error: "" });
      if (again && this.onRegistered) this.onRegistered();
    });
    this.ua.on("unregistered", () => this.set({ status: "unregistered" }));
    this.ua.on("registrationFailed", (e) => this.set({ status: "failed", error: e.cause || "registration failed" }));
    this.ua.on("disconnected", () => { if (this.status !== "off") this.set({ status: "unregistered", error: "no connection to the PBX" }); });
    this.ua.on("newRTCSession", ({ session, originator }) => this.adopt(session, originator));
    this.ua.start();
    this.changed();
  }

  stop() {
    this.ringer.stop();
    if (this.session) { try { this.session.terminate(); } catch { /* already ended */ } }
    if (this.ua) { this.ua.stop(); this.ua = null; }
    this.set({ status: "off", call: "idle" });
  }

  adopt(session, originator) {
    if (this.session && originator === "remote") { session.terminate({ status_code: 486 }); return; }
    this.session = session;
    this.set({ call: originator === "remote" ? "ringing" : "calling", held: false, muted: false });
    if (originator === "remote") this.ringer.start();
    session.on("peerconnection", ({ peerconnection }) => this.watch(peerconnection));
    if (session.connection) this.watch(session.connection);
    session.on("accepted", () => { this.ringer.stop(); this.set({ call: "up" }); });
    session.on("confirmed", () => { this.ringer.stop(); this.set({ call: "up" }); });
    session.on("hold", () => this.set({ held: true }));
    session.on("unhold", () => this.set({ held: false }));
    const done = () => {
      this.ringer.stop();
      clearInterval(this.stats);
      if (this.meter) { this.meter.close(); this.meter = null; }
      this.session = null;
      this.set({ call: "idle", held: false, muted: false, level: 0, quality: null });
    };
    // The answer waits for the browser's candidates: with a STUN or TURN server, only until the
    // one that server gives (or ICE_WAIT_MS), not until every server answered or timed out.
    session.on("icecandidate", this.gathering(session));
    session.on("ended", done);
    session.on("failed", done);
    // The call this page asked to get back (a reload lost its leg): answered without a click.
    if (originator === "remote" && Date.now() < this.answerBackUntil) {
      this.answerBackUntil = 0;
      this.answer();
    }
  }

  // One call's handler of its candidates: ready (send the answer) at the first candidate of the
  // best kind the servers can give (a TURN relay, else a STUN address), or ICE_WAIT_MS after the
  // first candidate; JsSIP sends it anyway once gathering is complete.
  gathering(session) {
    const servers = this.account.ice_servers.map((s) => s.urls);
    const best = servers.some((u) => u.startsWith("turn")) ? "relay" : "srflx";
    let wait = null;
    const stop = () => clearTimeout(wait);
    session.on("ended", stop);
    session.on("failed", stop);
    return ({ candidate, ready }) => {
      if (!servers.length) return; // host candidates only: gathering is over in a moment
      if (candidate.type === best) { clearTimeout(wait); ready(); return; }
      if (wait === null) wait = setTimeout(ready, ICE_WAIT_MS);
    };
  }

  watch(pc) {
    pc.addEventListener("track", (e) => { this.audio.srcObject = e.streams[0]; this.audio.play().catch(() => {}); });
    clearInterval(this.stats);
    this.stats = setInterval(() => this.measure(pc), QUALITY_EVERY_MS);
  }

  // The microphone's level, from the stream the call sends.
  listen(stream) {
    if (this.meter || !stream) return;
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const tick = () => {
      if (ctx.state === "closed") return;
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s - 128));
      this.level = Math.min(1, peak / 64);
      this.changed();
      setTimeout(tick, 150);
    };
    tick();
    this.meter = ctx;
  }

  async measure(pc) {
    const senders = pc.getSenders().filter((s) => s.track);
    if (senders.length) this.listen(new MediaStream(senders.map((s) => s.track)));
    const report = await pc.getStats();
    let rtt = null, jitter = null, lost = 0, received = 0, sent = 0;
    report.forEach((s) => {
      if (s.type === "remote-inbound-rtp" && s.roundTripTime != null) rtt = s.roundTripTime * 1000;
      if (s.type === "outbound-rtp" && s.kind === "audio") sent = s.packetsSent || 0;
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        jitter = (s.jitter || 0) * 1000;
        lost = s.packetsLost || 0;
        received = s.packetsReceived || 0;
      }
    });
    const lossPct = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
    const bad = (rtt || 0) > 300 || (jitter || 0) > 50 || lossPct > 5;
    const fair = (rtt || 0) > 150 || (jitter || 0) > 30 || lossPct > 1;
    // Until the first audio packet arrives (ICE and DTLS still connecting) nothing is measured:
    // the line says so rather than "good".
    const label = received + lost === 0 ? N_("no audio yet") : bad ? N_("poor") : fair ? N_("fair") : N_("good");
    this.quality = { rtt, jitter, lost: lossPct, received, sent, label };
    this.changed();
  }

  // The simulated phone follows the desk: it rings while the desk rings, is up while on a call.
  follow(desk) {
    if (!this.simulated) return;
    const call = desk.state === "ringing" ? "ringing" : desk.timer ? "up" : "idle";
    if (call === this.call) return;
    if (call === "ringing") this.ringer.start(); else this.ringer.stop();
    this.set(call === "idle" ? { call, held: false, muted: false } : { call });
  }

  answer() {
    if (this.simulated) return api("POST", "/api/v1/desk/answer");
    if (!this.session || this.call !== "ringing") return;
    this.ringer.stop();
    const iceServers = this.account.ice_servers.map(({ urls, username, credential }) =>
      username ? { urls, username, credential } : { urls });
    const clicked = performance.now();
    this.setupMs = null;
    this.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers } });
    this.timeSetup(clicked);
  }

  // Poll the connection's counters briefly until audio arrives: the call's setup time.
  async timeSetup(clicked) {
    for (let i = 0; i < 250 && this.session && this.setupMs == null; i++) {
      const pc = this.session.connection;
      if (pc) {
        const report = await pc.getStats();
        let received = 0;
        report.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio") received = s.packetsReceived || 0; });
        if (received > 0) { this.set({ setupMs: Math.round(performance.now() - clicked) }); return; }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  hangup() {
    if (this.simulated) return api("POST", "/api/v1/desk/hangup");
    if (this.session) this.session.terminate();
  }
  // Simulated: hold, mute and the keypad only change what the page shows (there is no media).
  toggleHold() {
    if (this.simulated) { this.set({ held: !this.held }); return; }
    if (!this.session) return;
    if (this.held) this.session.unhold(); else this.session.hold();
  }
  toggleMute() {
    if (this.simulated) { this.set({ muted: !this.muted }); return; }
    if (!this.session) return;
    if (this.muted) this.session.unmute({ audio: true }); else this.session.mute({ audio: true });
    this.set({ muted: !this.muted });
  }
  dtmf(tone) { if (this.session && this.call === "up") this.session.sendDTMF(tone, { duration: 120 }); }

  set(changes) { Object.assign(this, changes); this.changed(); }
  changed() { this.onChange(this); }
}
