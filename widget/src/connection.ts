// The socket's state machine (structures.md "Frames and limits" for the close codes):
//
//   connecting --welcome--> connected --close--> waiting --timer/online/visible--> connecting
//   connecting --close before open--> probing (config.ts) --> waiting | stopped
//   connected --1013--> connecting (at once, resuming with `last`)
//   any --4004, or the key unknown / origin refused--> stopped (for good)
//
// Waiting uses exponential backoff with full jitter (0.5 s .. 30 s); a welcome resets it.

import type { Verdict } from "./config";
import { CLOSE_KEY_REVOKED, CLOSE_TRY_AGAIN, type ClientFrame, type ServerFrame } from "./protocol";

export type Status = "connecting" | "connected" | "offline";

export interface ConnectionHooks {
  /** The URL for the next attempt, with the session token and the resume cursor. */
  url(): string;
  frame(frame: ServerFrame): void;
  status(status: Status): void;
  stopped(): void;
  probe(): Promise<Verdict>;
}

const BACKOFF_FLOOR_MS = 500;
const BACKOFF_STEP_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
const PING_MS = 25_000;
// A handshake that has neither welcomed nor failed by then (a stalled proxy) is given up.
const HANDSHAKE_TIMEOUT_MS = 15_000;
// No frame for this long (pongs included) while pings go out: the socket is dead.
const SILENCE_MS = 3 * PING_MS;
// Handshakes refused this many times in a row while the service answers HTTP: the key or the
// origin is refused, but cross-origin we cannot read which (see config.ts "refused").
const MAX_REFUSALS = 5;

export class Connection {
  private ws: WebSocket | null = null;
  private welcomed = false;
  private attempt = 0;
  private refusals = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private beat: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private heard = 0;
  /** Counts welcomes: a frame sent on an earlier socket may need sending again. */
  generation = 0;
  stopped = false;

  constructor(private readonly hooks: ConnectionHooks) {}

  start(): void {
    this.connect();
  }

  /** Send on a welcomed socket; false when there is none (the caller keeps what matters). */
  send(frame: ClientFrame): boolean {
    const ws = this.ws;
    if (!this.welcomed || !ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** Skip the rest of a backoff: the browser is back online, or the tab became visible. */
  wake(): void {
    if (this.retry === undefined) return;
    clearTimeout(this.retry);
    this.connect();
  }

  /** Open a new socket at once (it resumes after the newest message seen). */
  resume(): void {
    this.drop();
    this.connect();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.drop();
    this.hooks.status("offline");
    this.hooks.stopped();
  }

  private connect(): void {
    this.retry = undefined;
    if (this.stopped || this.ws) return;
    this.hooks.status("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.hooks.url());
    } catch {
      this.wait(); // e.g. a host page CSP without our origin in connect-src
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (event) => {
      this.heard = Date.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "welcome") this.welcome();
      try {
        this.hooks.frame(frame);
      } catch {
        // A bug of ours must not surface as an uncaught error in the host page.
      }
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.closed(event.code, opened);
    };
    this.deadline = setTimeout(() => this.closed(1006, opened), HANDSHAKE_TIMEOUT_MS);
  }

  private welcome(): void {
    this.welcomed = true;
    this.generation += 1;
    this.attempt = 0;
    this.refusals = 0;
    clearTimeout(this.deadline);
    clearInterval(this.beat);
    this.beat = setInterval(() => {
      if (Date.now() - this.heard > SILENCE_MS) this.closed(1006, true);
      else this.send({ type: "ping" });
    }, PING_MS);
    this.hooks.status("connected");
  }

  private closed(code: number, opened: boolean): void {
    const welcomed = this.welcomed;
    this.drop();
    if (code === CLOSE_KEY_REVOKED) {
      this.stop();
    } else if (code === CLOSE_TRY_AGAIN && welcomed) {
      this.connect();
    } else if (opened) {
      this.wait();
    } else {
      // Refused or unreachable: the browser does not say which, the config endpoint may.
      this.hooks.status("offline");
      void this.hooks.probe().then((verdict) => {
        if (verdict === "gone" || (verdict === "refused" && ++this.refusals >= MAX_REFUSALS)) {
          this.stop();
        } else {
          this.wait();
        }
      });
    }
  }

  private wait(): void {
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
    clearInterval(this.beat);
    if (!ws) return;
    ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING) {
      // close() now would log "closed before the connection is established" on the host page.
      ws.onopen = () => ws.close();
    } else {
      ws.onopen = null;
      ws.close();
    }
  }
}
