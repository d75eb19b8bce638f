// The console's socket (/ws/agent): the shared Socket (frontend/shared/socket.ts: backoff,
// handshake timeout, dead-socket check) with the console's reading of a close (structures.md
// "Frames and limits" for close codes):
//
//   connecting --welcome--> connected --close--> offline (waiting)
//   offline --timer, online, tab visible--> connecting
//   connected --4001--> refresh the token --ok--> connecting at once
//                                         --refused--> signed out (the app stops this)
//                                         --network--> offline (waiting)
//
// While connected: a heartbeat (presence) and a ping every 20 s; no frame at all for 50 s (the
// pongs included) means the socket is dead, though the browser has not noticed yet.

import { Socket, type Status } from "@chat/shared/socket";
import type { RefreshResult } from "./auth";
import { CLOSE_AUTH, type ClientFrame, type ServerFrame } from "./protocol";

export type { Status };

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

export const HEARTBEAT_MS = 20_000;
const SILENCE_MS = 50_000;
// 4001 right after a successful refresh this many times in a row: stop hammering, back off.
const MAX_AUTH_RETRIES = 2;

export class Connection extends Socket<ServerFrame, ClientFrame, ConnectionHooks> {
  private authRetries = 0;
  /** A token refresh before the handshake is under way: one at a time. */
  private preparing = false;

  constructor(hooks: ConnectionHooks) {
    super(hooks, HEARTBEAT_MS, SILENCE_MS);
    this.stopped = true; // until start(): signed in
  }

  /** The token first (it may have expired while the laptop slept), then the handshake. */
  protected override open(): void {
    if (!this.hooks.prepare) return super.open();
    if (this.preparing) return;
    this.preparing = true;
    void this.hooks
      .prepare()
      .catch(() => {
        // a failed refresh: try the handshake anyway, a 4001 will say what to do
      })
      .then(() => {
        this.preparing = false;
        super.open();
      });
  }

  protected beat(): void {
    this.send({ type: "heartbeat" });
    this.send({ type: "ping" });
  }

  protected onClose(code: number, welcomed: boolean): void {
    if (welcomed) this.authRetries = 0;
    if (code !== CLOSE_AUTH) {
      this.wait();
      return;
    }
    this.authRetries += 1;
    this.hooks.status("connecting");
    void this.hooks.refresh().then((result) => {
      if (this.stopped || this.ws) return;
      if (result === "ok" && this.authRetries <= MAX_AUTH_RETRIES) this.connect();
      else if (result !== "ended") this.wait();
      // "ended": the app shows the sign-in form and stops this connection
    });
  }
}
