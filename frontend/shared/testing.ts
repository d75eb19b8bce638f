// Test helpers for both apps' unit tests (node --test, no browser).

/** A stand-in for the browser's WebSocket: installed as globalThis.WebSocket, it records every
 * socket made and what was sent; the test plays the server with accept() and drop(). */
export class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  /** The frame accept() delivers (each app's welcome). */
  static welcome: object = { type: "welcome" };
  readyState = FakeSocket.CONNECTING;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }

  /** Install as the global WebSocket, forgetting earlier sockets; accept() will send `welcome`. */
  static install(welcome: object): void {
    FakeSocket.all = [];
    FakeSocket.welcome = welcome;
    (globalThis as { WebSocket?: unknown }).WebSocket = FakeSocket;
  }

  // the server's side
  accept() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
    this.onmessage?.({ data: JSON.stringify(FakeSocket.welcome) });
  }
  /** Close with `code`; `opened` false: the handshake failed (no open event first). */
  drop(code: number, opened = true) {
    this.readyState = 3;
    if (opened) this.onopen?.();
    this.onclose?.({ code });
  }
}

/** Let pending promise callbacks run (after a hook's async step). */
export const flush = () => new Promise((resolve) => setImmediate(resolve));
