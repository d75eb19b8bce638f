// The WebSocket both front-ends keep open (the widget's /ws/widget, the console's /ws/agent):
//
//   connecting --welcome--> connected --close--> (the app's policy: hooks.closed) --> waiting | now | stopped
//   waiting --timer, wake() (online, tab visible)--> connecting
//
// Waiting is exponential backoff with full jitter, max(0.5 s, random * min(30 s, 1 s * 2^n)); a
// welcome resets it. A handshake neither welcomed nor closed within 15 s (a stalled proxy) is
// given up. While connected, every `beatMs` the app's beat frames go out (a ping, the console's
// heartbeat too); no frame at all for `silenceMs` (pongs included) means a dead socket the
// browser has not noticed yet. What a close means (a revoked key, an expired token, a server
// asking to come back at once) differs per app: its `closed` hook decides, calling connect(),
// wait() or stop(). The console makes its token fresh before each handshake (`prepare`).
//
// A closure rather than a class: its state is local variables, which the minifier shortens, so
// sharing it costs the widget's budget almost nothing (class fields keep their names).

import type { FrameBase } from "./protocol";

export type Status = "connecting" | "connected" | "offline";

export interface SocketHooks<In extends FrameBase, Out extends FrameBase> {
  /** The URL for the next attempt; null: do not connect (signed out). */
  url(): string | null;
  /** Every frame received, a welcome after the socket's own bookkeeping. */
  frame(frame: In): void;
  status(status: Status): void;
  /** Every beatMs while connected: send the beat frames. */
  beat(send: (frame: Out) => boolean): void;
  /** The socket closed (or its handshake timed out: 1006), not by stop(): what now. */
  closed(code: number, welcomed: boolean, opened: boolean): void;
  /** Before each handshake: call `open` when ready (it does nothing if stopped meanwhile). */
  prepare?(open: () => void): void;
  /** Once, when stop() ends the connection. */
  stopped?(): void;
}

export interface Socket<Out extends FrameBase> {
  /** Counts welcomes: a frame sent on an earlier socket may need sending again. */
  readonly generation: number;
  /** True until start(), and after stop(). */
  readonly stopped: boolean;
  /** Welcomed and open. */
  readonly connected: boolean;
  start(): void;
  /** Send on a welcomed socket; false when there is none (the caller keeps what matters). */
  send(frame: Out): boolean;
  /** Skip the rest of a backoff: the browser is back online, or the tab became visible. */
  wake(): void;
  /** A new socket at once (it resumes from where the app says, in its url()). */
  reconnect(): void;
  /** Connect now, unless a socket exists or stop() was called (for the `closed` hook). */
  connect(): void;
  /** Back off, then connect (for the `closed` hook). */
  wait(): void;
  stop(): void;
}

const BACKOFF_FLOOR_MS = 500;
const BACKOFF_STEP_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 15_000;

/** A socket to `hooks.url()`, idle until start(). */
export function createSocket<In extends FrameBase, Out extends FrameBase>(
  hooks: SocketHooks<In, Out>,
  beatMs: number,
  silenceMs: number,
): Socket<Out> {
  let ws: WebSocket | null = null;
  let welcomed = false;
  let attempt = 0;
  // The backoff's timer while waiting (a timer handle is never 0 or falsy), else undefined.
  let retry: ReturnType<typeof setTimeout> | undefined;
  let beats: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let heard = 0;

  const socket = {
    generation: 0,
    stopped: true,
    get connected(): boolean {
      return welcomed && ws?.readyState === WebSocket.OPEN;
    },
    start(): void {
      socket.stopped = false;
      socket.connect();
    },
    send(frame: Out): boolean {
      if (!socket.connected) return false;
      ws?.send(JSON.stringify(frame));
      return true;
    },
    wake(): void {
      if (!retry) return;
      clearTimeout(retry);
      socket.connect();
    },
    reconnect(): void {
      // After stop() there is no socket to drop, and connect() does nothing.
      drop();
      clearTimeout(retry);
      socket.connect();
    },
    connect(): void {
      retry = undefined;
      if (socket.stopped || ws) return;
      hooks.status("connecting");
      if (hooks.prepare) hooks.prepare(open);
      else open();
    },
    wait(): void {
      if (socket.stopped || ws || retry) return;
      const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_STEP_MS * 2 ** attempt++);
      const delay = Math.max(BACKOFF_FLOOR_MS, Math.random() * ceiling);
      hooks.status("offline");
      retry = setTimeout(socket.connect, delay);
    },
    stop(): void {
      if (socket.stopped) return;
      socket.stopped = true;
      clearTimeout(retry);
      retry = undefined;
      drop();
      hooks.status("offline");
      hooks.stopped?.();
    },
  };

  function open(): void {
    if (socket.stopped || ws) return;
    const url = hooks.url();
    if (!url) return;
    let current: WebSocket;
    try {
      current = new WebSocket(url);
    } catch {
      socket.wait(); // e.g. a host page CSP without the service in connect-src
      return;
    }
    ws = current;
    let opened = false;
    current.onopen = () => {
      opened = true;
    };
    current.onmessage = (event: MessageEvent) => {
      heard = Date.now();
      let frame: In;
      try {
        frame = JSON.parse(String(event.data)) as In;
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "welcome") welcome();
      hooks.frame(frame);
    };
    current.onclose = (event: CloseEvent) => {
      if (ws === current) closed(event.code, opened);
    };
    // A welcome or a drop clears it, so when it fires this socket is still unwelcomed.
    deadline = setTimeout(() => closed(1006, opened), HANDSHAKE_TIMEOUT_MS);
  }

  function welcome(): void {
    welcomed = true;
    socket.generation++;
    attempt = 0;
    clearTimeout(deadline);
    clearInterval(beats);
    beats = setInterval(() => {
      if (Date.now() - heard > silenceMs) closed(1006, true);
      else hooks.beat(socket.send);
    }, beatMs);
    hooks.status("connected");
  }

  function closed(code: number, opened: boolean): void {
    const was = welcomed;
    drop();
    if (!socket.stopped) hooks.closed(code, was, opened);
  }

  function drop(): void {
    const old = ws;
    ws = null;
    welcomed = false;
    clearTimeout(deadline);
    clearInterval(beats);
    if (!old) return;
    old.onmessage = null;
    old.onclose = null;
    if (old.readyState === WebSocket.CONNECTING) {
      // close() now would log "closed before the connection is established" (on a host page).
      old.onopen = () => old.close(1000);
    } else {
      old.onopen = null;
      old.close(1000);
    }
  }

  return socket;
}
