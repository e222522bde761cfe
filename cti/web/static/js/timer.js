// The talk timer: elapsed time from the server's start time, blue until the group's ideal talk
// time, red past it; reset when the call ends or the attention is cleared.
export class TalkTimer {
  constructor(node, serverNow) {
    this.node = node;
    this.serverNow = serverNow;
    this.timer = null;
    this.handle = setInterval(() => this.paint(), 250);
  }

  set(timer) { this.timer = timer; this.paint(); }

  reset() { this.timer = null; this.paint(); }

  paint() {
    const t = this.timer;
    if (!t) {
      this.node.textContent = "00:00";
      this.node.classList.add("idle");
      this.node.dataset.over = "false";
      return;
    }
    const secs = Math.max(0, Math.floor((this.serverNow() - t.started_ms) / 1000));
    const mm = String(Math.floor(secs / 60)).padStart(2, "0");
    const ss = String(secs % 60).padStart(2, "0");
    this.node.textContent = `${mm}:${ss}`;
    this.node.classList.remove("idle");
    const over = t.ideal_seconds != null && secs > t.ideal_seconds;
    this.node.dataset.over = over ? "true" : "false";
    this.node.title = t.ideal_seconds != null
      ? `Ideal talk time ${t.ideal_seconds} s` : "No ideal talk time set for your group";
  }
}
