// The console's socket (/ws/agent): the shared socket (frontend/shared/socket.ts: backoff,
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

import { createSocket, type Socket, type Status } from "@chat/shared/socket";
import type { RefreshResult } from "./auth";
import { CLOSE_AUTH, type ClientFrame, type ServerFrame } from "./protocol";

export type { Status };
export type Connection = Socket<ClientFrame>;

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

/** The console's connection, idle until start() (signed in). */
export function createConnection(hooks: ConnectionHooks): Connection {
  let authRetries = 0;
  // A token refresh before the handshake is under way: one at a time.
  let preparing = false;
  const prepare = hooks.prepare;
  const socket = createSocket<ServerFrame, ClientFrame>(
    {
      url: hooks.url,
      frame: hooks.frame,
      status: hooks.status,
      // The token first (it may have expired while the laptop slept), then the handshake.
      prepare: prepare
        ? (open) => {
            if (preparing) return;
            preparing = true;
            void prepare()
              .catch(() => {
                // a failed refresh: try the handshake anyway, a 4001 will say what to do
              })
              .then(() => {
                preparing = false;
                open();
              });
          }
        : undefined,
      beat(send) {
        send({ type: "heartbeat" });
        send({ type: "ping" });
      },
      closed(code, welcomed) {
        if (welcomed) authRetries = 0;
        if (code !== CLOSE_AUTH) {
          socket.wait();
          return;
        }
        authRetries += 1;
        hooks.status("connecting");
        void hooks.refresh().then((result) => {
          // connect() and wait() do nothing once stopped or while a socket exists.
          if (result === "ok" && authRetries <= MAX_AUTH_RETRIES) socket.connect();
          else if (result !== "ended") socket.wait();
          // "ended": the app shows the sign-in form and stops this connection
        });
      },
    },
    HEARTBEAT_MS,
    SILENCE_MS,
  );
  return socket;
}
