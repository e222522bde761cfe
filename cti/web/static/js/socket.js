// The desk's WebSocket: reconnects with back-off, keeps the server-clock offset, reports closes.
// A socket refused at its handshake shows only as a close (1006): the session is asked about
// before each retry, and one that has ended is final (a restart is not: the session is kept).
import { sessionEnded } from "./api.js";

export const CLOSE_TOO_SLOW = 4008;
export const CLOSE_TAKEN_OVER = 4009;
export const CLOSE_SESSION_ENDED = 4001;

export class DeskSocket {
  constructor({ onMessage, onStatus, onFinal }) {
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onFinal = onFinal;
    this.offset = 0; // server clock minus browser clock, in ms
    this.retry = 250;
    this.stopped = false;
  }

  // The server's "now" in ms, as well as the browser can tell it.
  serverNow() { return Date.now() + this.offset; }

  open() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/desk`);
    this.ws = ws;
    ws.onopen = () => { this.retry = 250; this.onStatus("live"); };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (typeof msg.now === "number") this.offset = msg.now - Date.now();
      this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.stopped) return;
      if (ev.code === CLOSE_TAKEN_OVER || ev.code === CLOSE_SESSION_ENDED || ev.code === 1000) {
        this.stopped = true;
        this.onFinal(ev.code, ev.reason);
        return;
      }
      this.onStatus("reconnecting");
      const wait = ev.code === CLOSE_TOO_SLOW ? 50 : this.retry;
      this.retry = Math.min(this.retry * 2, 5000);
      setTimeout(async () => {
        if (this.stopped) return;
        if (await sessionEnded()) {
          this.stopped = true;
          this.onFinal(CLOSE_SESSION_ENDED, "Your session has ended. Sign in again to go on.");
          return;
        }
        this.open();
      }, wait);
    };
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  stop() { this.stopped = true; if (this.ws) this.ws.close(); }
}
