// The widget's socket (/ws/widget): the shared socket (frontend/shared/socket.ts: backoff,
// handshake timeout, ping, dead-socket check) with the widget's reading of a close
// (structures.md "Frames and limits" for the close codes):
//
//   connecting --welcome--> connected --close--> waiting --timer/online/visible--> connecting
//   connecting --close before open--> probing (config.ts) --> waiting | stopped
//   connected --1013--> connecting (at once, resuming with `last`)
//   any --4004, or the key unknown / origin refused--> stopped (for good)

import { createSocket, type Socket, type Status } from "@chat/shared/socket";
import type { Verdict } from "./config";
import { CLOSE_KEY_REVOKED, CLOSE_TRY_AGAIN, type ClientFrame, type ServerFrame } from "./protocol";

export type { Status };
export type Connection = Socket<ClientFrame>;

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

/** The widget's connection, idle until start(). */
export function createConnection(hooks: ConnectionHooks): Connection {
  let refusals = 0;
  const socket = createSocket<ServerFrame, ClientFrame>(
    {
      ...hooks,
      frame(frame) {
        try {
          hooks.frame(frame);
        } catch {
          // A bug of ours must not surface as an uncaught error in the host page.
        }
      },
      beat: (send) => send({ type: "ping" }),
      closed(code, welcomed, opened) {
        // A handshake that opened was not refused: "in a row" starts over.
        if (opened) refusals = 0;
        if (code === CLOSE_KEY_REVOKED) {
          socket.stop();
        } else if (code === CLOSE_TRY_AGAIN && welcomed) {
          socket.connect();
        } else if (opened) {
          socket.wait();
        } else {
          // Refused or unreachable: the browser does not say which, the config endpoint may.
          hooks.status("offline");
          void hooks.probe().then((verdict) => {
            if (verdict === "gone" || (verdict === "refused" && ++refusals >= MAX_REFUSALS)) {
              socket.stop();
            } else {
              socket.wait();
            }
          });
        }
      },
    },
    PING_MS,
    3 * PING_MS,
  );
  return socket;
}
