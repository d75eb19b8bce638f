// The /ws/agent socket's state machine (structures.md "Frames and limits" for close codes):
//
//   connecting --welcome--> connected --close--> offline (waiting)
//   offline --timer, online, tab visible--> connecting
//   connected --4001--> refresh the token --ok--> connecting at once
//                                         --refused--> signed out (the app stops this)
//                                         --network--> offline (waiting)
//
// Waiting is exponential backoff with full jitter (0.5 s .. 30 s); a welcome resets it.
// While connected: a heartbeat (presence) and a ping every 20 s; no frame at all for 50 s (the
// pongs included) means the socket is dead, though the browser has not noticed yet.

import { CLOSE_AUTH, type ClientFrame, type ServerFrame } from "./protocol";
import type { RefreshResult } from "./auth";

export type Status = "connecting" | "connected" | "offline";

export interface ConnectionHooks {
  /** Make the token fresh before a handshake (it may be expired after a sleep). */
  prepare?(): Promise<void>;
  /** The URL for the next attempt, with the current token; null when signed out. */
  url(): string | null;
  frame(frame: ServerFrame): void;
  status(status: Status): void;
  /** The server closed with 4001: trade the refresh token for a new access token. */
  refresh(): Promise<RefreshResult>;
}

const BACKOFF_FLOOR_MS = 500;
const BACKOFF_STEP_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
export const HEARTBEAT_MS = 20_000;
const SILENCE_MS = 50_000;
// A handshake neither welcomed nor closed by then (a stalled proxy) is given up.
const HANDSHAKE_TIMEOUT_MS = 15_000;
// 4001 right after a successful refresh this many times in a row: stop hammering, back off.
const MAX_AUTH_RETRIES = 2;

export class Connection {
  private ws: WebSocket | null = null;
  private welcomed = false;
  private opening = false;
  private attempt = 0;
  private authRetries = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private beat: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private heard = 0;
  private stopped = true;

  constructor(private readonly hooks: ConnectionHooks) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  get connected(): boolean {
    return this.welcomed && this.ws?.readyState === WebSocket.OPEN;
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
    void this.connect();
  }

  /** A new socket now, e.g. to learn spaces created since the welcome (the feeds resume). */
  reconnect(): void {
    if (this.stopped) return;
    this.drop();
    clearTimeout(this.retry);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.drop();
    this.hooks.status("offline");
  }

  private async connect(): Promise<void> {
    this.retry = undefined;
    if (this.stopped || this.ws || this.opening) return;
    this.hooks.status("connecting");
    if (this.hooks.prepare) {
      this.opening = true;
      try {
        await this.hooks.prepare();
      } catch {
        // a failed refresh: try the handshake anyway, a 4001 will say what to do
      } finally {
        this.opening = false;
      }
      if (this.stopped || this.ws) return;
    }
    const url = this.hooks.url();
    if (!url) return; // signed out
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.wait();
      return;
    }
    this.ws = ws;
    this.heard = Date.now();
    ws.onmessage = (event: MessageEvent) => {
      this.heard = Date.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "welcome") this.welcome();
      this.hooks.frame(frame);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws === ws) this.closed(event.code);
    };
    this.deadline = setTimeout(() => {
      if (this.ws === ws && !this.welcomed) this.closed(1006);
    }, HANDSHAKE_TIMEOUT_MS);
  }

  private welcome(): void {
    this.welcomed = true;
    this.attempt = 0;
    clearTimeout(this.deadline);
    clearInterval(this.beat);
    this.beat = setInterval(() => {
      if (Date.now() - this.heard > SILENCE_MS) {
        this.closed(1006);
        return;
      }
      this.send({ type: "heartbeat" });
      this.send({ type: "ping" });
    }, HEARTBEAT_MS);
    this.hooks.status("connected");
  }

  private closed(code: number): void {
    const welcomed = this.welcomed;
    this.drop();
    if (this.stopped) return;
    if (welcomed) this.authRetries = 0;
    if (code !== CLOSE_AUTH) {
      this.wait();
      return;
    }
    this.authRetries += 1;
    this.hooks.status("connecting");
    void this.hooks.refresh().then((result) => {
      if (this.stopped || this.ws) return;
      if (result === "ok" && this.authRetries <= MAX_AUTH_RETRIES) void this.connect();
      else if (result !== "ended") this.wait();
      // "ended": the app shows the sign-in form and stops this connection
    });
  }

  private wait(): void {
    if (this.stopped || this.ws || this.retry !== undefined) return;
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_STEP_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = Math.max(BACKOFF_FLOOR_MS, Math.random() * ceiling);
    this.hooks.status("offline");
    this.retry = setTimeout(() => void this.connect(), delay);
  }

  private drop(): void {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    clearTimeout(this.deadline);
    clearInterval(this.beat);
    if (!ws) return;
    ws.onmessage = null;
    ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING) {
      // close() now would log "closed before the connection is established".
      ws.onopen = () => ws.close(1000);
    } else {
      ws.onopen = null;
      ws.close(1000);
    }
  }
}
