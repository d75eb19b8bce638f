// The WebSocket both front-ends keep open (the widget's /ws/widget, the console's /ws/agent):
//
//   connecting --welcome--> connected --close--> (the app's policy: onClose) --> waiting | now | stopped
//   waiting --timer, wake() (online, tab visible)--> connecting
//
// Waiting is exponential backoff with full jitter, max(0.5 s, random * min(30 s, 1 s * 2^n)); a
// welcome resets it. A handshake neither welcomed nor closed within 15 s (a stalled proxy) is
// given up. While connected, every `beatMs` the app's beat frames go out (a ping, the console's
// heartbeat too); no frame at all for `silenceMs` (pongs included) means a dead socket the
// browser has not noticed yet. What a close means (a revoked key, an expired token, a server
// asking to come back at once) differs per app: each subclass decides in onClose. A subclass
// may do something before each handshake by overriding open() (the console makes its token
// fresh), calling it when done.

import type { FrameBase } from "./protocol";

export type Status = "connecting" | "connected" | "offline";

export interface SocketHooks<In extends FrameBase> {
  /** The URL for the next attempt; null: do not connect (signed out). */
  url(): string | null;
  frame(frame: In): void;
  status(status: Status): void;
}

const BACKOFF_FLOOR_MS = 500;
const BACKOFF_STEP_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 15_000;

export abstract class Socket<
  In extends FrameBase,
  Out extends FrameBase,
  Hooks extends SocketHooks<In> = SocketHooks<In>,
> {
  /** The current socket, open or opening (a policy's async step may find one started since). */
  protected ws: WebSocket | null = null;
  private welcomed = false;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private beats: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private heard = 0;
  /** Counts welcomes: a frame sent on an earlier socket may need sending again. */
  generation = 0;
  stopped = false;

  /** Every `beatMs` while connected the beat frames go out; `silenceMs` without a frame: dead. */
  constructor(
    /** The app's hooks, with whatever more its subclass needs (the widget's probe()). */
    protected readonly hooks: Hooks,
    private readonly beatMs: number,
    private readonly silenceMs: number,
  ) {}

  /** Every beatMs while connected: send the beat frames (a ping, the console's heartbeat). */
  protected abstract beat(): void;

  /** The socket closed (or its handshake timed out: 1006): connect now, wait, or stop. */
  protected abstract onClose(code: number, welcomed: boolean, opened: boolean): void;

  /** Called once when stop() ends the connection. */
  protected onStop(): void {}

  /** Hand a frame to the app, a welcome after the socket's own bookkeeping (the widget guards
   * the host page from its errors here). */
  protected deliver(frame: In): void {
    this.hooks.frame(frame);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  get connected(): boolean {
    return this.welcomed && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Send on a welcomed socket; false when there is none (the caller keeps what matters). */
  send(frame: Out): boolean {
    if (!this.connected) return false;
    this.ws?.send(JSON.stringify(frame));
    return true;
  }

  /** Skip the rest of a backoff: the browser is back online, or the tab became visible. */
  wake(): void {
    if (this.retry === undefined) return;
    clearTimeout(this.retry);
    this.connect();
  }

  /** A new socket at once (it resumes from where the app says, in its url()). */
  reconnect(): void {
    if (this.stopped) return;
    this.drop();
    clearTimeout(this.retry);
    this.connect();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.drop();
    this.hooks.status("offline");
    this.onStop();
  }

  protected connect(): void {
    this.retry = undefined;
    if (this.stopped || this.ws) return;
    this.hooks.status("connecting");
    this.open();
  }

  /** Make the socket (the console first makes its token fresh: it overrides this and calls it
   * after). Does nothing when stopped or when a socket exists by then. */
  protected open(): void {
    if (this.stopped || this.ws) return;
    const url = this.hooks.url();
    if (!url) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.wait(); // e.g. a host page CSP without the service in connect-src
      return;
    }
    this.ws = ws;
    this.heard = Date.now();
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (event: MessageEvent) => {
      this.heard = Date.now();
      let frame: In;
      try {
        frame = JSON.parse(String(event.data)) as In;
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "welcome") this.welcome();
      this.deliver(frame);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws === ws) this.closed(event.code, opened);
    };
    // A welcome or a drop clears it, so when it fires this socket is still unwelcomed.
    this.deadline = setTimeout(() => this.closed(1006, opened), HANDSHAKE_TIMEOUT_MS);
  }

  private welcome(): void {
    this.welcomed = true;
    this.generation += 1;
    this.attempt = 0;
    clearTimeout(this.deadline);
    clearInterval(this.beats);
    this.beats = setInterval(() => {
      if (Date.now() - this.heard > this.silenceMs) {
        this.closed(1006, true);
        return;
      }
      this.beat();
    }, this.beatMs);
    this.hooks.status("connected");
  }

  private closed(code: number, opened: boolean): void {
    const welcomed = this.welcomed;
    this.drop();
    if (!this.stopped) this.onClose(code, welcomed, opened);
  }

  /** Back off, then connect again. */
  protected wait(): void {
    if (this.stopped || this.ws || this.retry !== undefined) return;
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_STEP_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = Math.max(BACKOFF_FLOOR_MS, Math.random() * ceiling);
    this.hooks.status("offline");
    this.retry = setTimeout(() => this.connect(), delay);
  }

  private drop(): void {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    clearTimeout(this.deadline);
    clearInterval(this.beats);
    if (!ws) return;
    ws.onmessage = null;
    ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING) {
      // close() now would log "closed before the connection is established" (on a host page).
      ws.onopen = () => ws.close(1000);
    } else {
      ws.onopen = null;
      ws.close(1000);
    }
  }
}
