// One WebSocket that reconnects by itself with exponential backoff and jitter.
// The owner resumes on every "open" (the protocol's resume/open frames): nothing is lost.

const PING_MS = 25000;
const MAX_DELAY_MS = 30000;

export class ChatSocket {
  /**
   * @param {string} path  "/ws/client" or "/ws/staff"
   * @param {{onOpen?: Function, onFrame?: Function, onState?: Function, onClose?: Function}} handlers
   */
  constructor(path, handlers = {}) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${location.host}${path}`;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.pinger = null;
    this.stopped = false;
    this.state = "connecting";
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state !== "open") this.reconnectNow();
    });
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    this.setState(this.attempt ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      this.attempt = 0;
      this.setState("open");
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ type: "ping" }), PING_MS);
      this.handlers.onOpen?.();
    });
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") this.handlers.onFrame?.(frame);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      clearInterval(this.pinger);
      this.ws = null;
      const verdict = this.handlers.onClose?.(event);
      if (verdict === "stop") {
        this.stopped = true;
        this.setState("stopped");
        return;
      }
      this.setState("reconnecting");
      this.schedule();
    });
  }

  schedule() {
    if (this.stopped || this.timer) return;
    const base = Math.min(MAX_DELAY_MS, 500 * 2 ** this.attempt);
    const delay = Math.round(base * (0.6 + Math.random() * 0.4));
    this.attempt += 1;
    this.setState("reconnecting", delay);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.isOpen) return;
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) return;
    this.attempt = Math.min(this.attempt, 1);
    clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }

  setState(state, delay = 0) {
    this.state = state;
    this.handlers.onState?.(state, delay);
  }

  /** Sends a frame if the socket is open; returns whether it was sent. */
  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** For tests and debugging: drop the connection as a network failure would. */
  drop() {
    if (this.ws) this.ws.close(4000, "drop");
  }
}
