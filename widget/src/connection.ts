// The widget's socket (/ws/widget): the shared Socket (frontend/shared/socket.ts: backoff,
// handshake timeout, ping, dead-socket check) with the widget's reading of a close
// (structures.md "Frames and limits" for the close codes):
//
//   connecting --welcome--> connected --close--> waiting --timer/online/visible--> connecting
//   connecting --close before open--> probing (config.ts) --> waiting | stopped
//   connected --1013--> connecting (at once, resuming with `last`)
//   any --4004, or the key unknown / origin refused--> stopped (for good)

import { Socket, type Status } from "@chat/shared/socket";
import type { Verdict } from "./config";
import { CLOSE_KEY_REVOKED, CLOSE_TRY_AGAIN, type ClientFrame, type ServerFrame } from "./protocol";

export type { Status };

export interface ConnectionHooks {
  /** The URL for the next attempt, with the session token and the resume cursor. */
  url(): string;
  frame(frame: ServerFrame): void;
  status(status: Status): void;
  stopped(): void;
  probe(): Promise<Verdict>;
}

const PING_MS = 25_000;
// Handshakes refused this many times in a row while the service answers HTTP: the key or the
// origin is refused, but cross-origin we cannot read which (see config.ts "refused").
const MAX_REFUSALS = 5;

export class Connection extends Socket<ServerFrame, ClientFrame, ConnectionHooks> {
  private refusals = 0;

  constructor(hooks: ConnectionHooks) {
    super(hooks, PING_MS, 3 * PING_MS);
  }

  protected override deliver(frame: ServerFrame): void {
    if (frame.type === "welcome") this.refusals = 0;
    try {
      this.hooks.frame(frame);
    } catch {
      // A bug of ours must not surface as an uncaught error in the host page.
    }
  }

  protected beat(): void {
    this.send({ type: "ping" });
  }

  protected override onStop(): void {
    this.hooks.stopped();
  }

  protected onClose(code: number, welcomed: boolean, opened: boolean): void {
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
}
