// The talk timer: elapsed time from the server's start time, blue until the group's ideal talk
// time, red past it; reset when the call ends or the attention is cleared.
import { t } from "./i18n.js";

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
    const running = this.timer;
    if (!running) {
      this.node.textContent = "00:00";
      this.node.classList.add("idle");
      this.node.dataset.over = "false";
      return;
    }
    const secs = Math.max(0, Math.floor((this.serverNow() - running.started_ms) / 1000));
    const mm = String(Math.floor(secs / 60)).padStart(2, "0");
    const ss = String(secs % 60).padStart(2, "0");
    this.node.textContent = `${mm}:${ss}`;
    this.node.classList.remove("idle");
    const over = running.ideal_seconds != null && secs > running.ideal_seconds;
    this.node.dataset.over = over ? "true" : "false";
    this.node.title = running.ideal_seconds != null
      ? t("Ideal talk time {seconds} s", { seconds: running.ideal_seconds }) : t("No ideal talk time set for your group");
  }
}
