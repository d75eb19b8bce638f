// Unit tests of the shared socket (socket.ts): backoff, the handshake deadline, beats and the
// dead-socket check, stop and reconnect. What a close means is each app's policy, tested with the
// app (widget/test, console/test); here the `closed` hook backs off on every close. Both apps'
// test files import this one, like protocol.test.ts.

import assert from "node:assert/strict";
import { mock, test } from "node:test";
import type { FrameBase } from "./protocol";
import { createSocket, type Status } from "./socket";
import { FakeSocket } from "./testing";

const BEAT_MS = 20_000;
const SILENCE_MS = 50_000;

function probe() {
  FakeSocket.install({ type: "welcome" });
  const statuses: Status[] = [];
  const frames: string[] = [];
  const closes: { code: number; welcomed: boolean; opened: boolean }[] = [];
  let stops = 0;
  const socket = createSocket<FrameBase, FrameBase>(
    {
      url: () => "ws://service/ws",
      frame: (frame) => frames.push(frame.type),
      status: (status) => statuses.push(status),
      beat: (send) => send({ type: "ping" }),
      closed(code, welcomed, opened) {
        closes.push({ code, welcomed, opened });
        socket.wait();
      },
      stopped: () => stops++,
    },
    BEAT_MS,
    SILENCE_MS,
  );
  return { socket, statuses, frames, closes, stops: () => stops };
}

/** Run `body` under mocked timers, Math.random fixed (1: every wait at its ceiling). */
function withClock(body: () => void, jitter = 1): void {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
  const random = mock.method(Math, "random", () => jitter);
  try {
    body();
  } finally {
    random.mock.restore();
    mock.timers.reset();
  }
}

test("socket: waits double from 1 s up to 30 s; a welcome starts over", () => {
  withClock(() => {
    const { socket, statuses } = probe();
    socket.start();
    for (const ceiling of [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]) {
      const sockets = FakeSocket.all.length;
      FakeSocket.all.at(-1)?.drop(1006);
      assert.equal(statuses.at(-1), "offline");
      mock.timers.tick(ceiling - 1);
      assert.equal(FakeSocket.all.length, sockets, `still waiting before ${ceiling} ms`);
      mock.timers.tick(1);
      assert.equal(FakeSocket.all.length, sockets + 1, `a new socket at ${ceiling} ms`);
    }
    FakeSocket.all.at(-1)?.accept();
    assert.equal(statuses.at(-1), "connected");
    FakeSocket.all.at(-1)?.drop(1006);
    mock.timers.tick(999);
    const sockets = FakeSocket.all.length;
    mock.timers.tick(1);
    assert.equal(FakeSocket.all.length, sockets + 1, "back to 1 s after a welcome");
  });
});

test("socket: never sooner than 0.5 s, whatever the jitter", () => {
  withClock(() => {
    const { socket } = probe();
    socket.start();
    FakeSocket.all[0]?.drop(1006);
    mock.timers.tick(499);
    assert.equal(FakeSocket.all.length, 1);
    mock.timers.tick(1);
    assert.equal(FakeSocket.all.length, 2);
  }, 0);
});

test("socket: a handshake neither welcomed nor closed in 15 s is given up", () => {
  withClock(() => {
    const { socket, statuses, closes } = probe();
    socket.start();
    assert.equal(statuses.at(-1), "connecting");
    mock.timers.tick(15_000);
    assert.deepEqual(closes, [{ code: 1006, welcomed: false, opened: false }]);
    // Closing a socket still connecting would log an error: it is closed when it opens.
    FakeSocket.all[0]?.onopen?.();
    assert.equal(FakeSocket.all[0]?.readyState, 3, "the stalled socket is closed once open");
    assert.equal(statuses.at(-1), "offline");
  });
});

test("socket: beats go out while connected; silence past the limit drops the socket", () => {
  withClock(() => {
    const { socket, frames, closes } = probe();
    socket.start();
    assert.equal(socket.send({ type: "early" }), false, "nothing before the welcome");
    FakeSocket.all[0]?.accept();
    assert.deepEqual(frames, ["welcome"]);
    assert.equal(socket.generation, 1);
    mock.timers.tick(2 * BEAT_MS);
    assert.deepEqual(FakeSocket.all[0]?.sent, ['{"type":"ping"}', '{"type":"ping"}']);
    assert.deepEqual(closes, []);
    mock.timers.tick(BEAT_MS); // 60 s without a frame: over the 50 s
    assert.deepEqual(closes, [{ code: 1006, welcomed: true, opened: true }]);
    assert.equal(socket.connected, false);
  });
});

test("socket: reconnect opens a new socket at once; stop ends it for good", () => {
  withClock(() => {
    const { socket, statuses, closes, stops } = probe();
    socket.start();
    FakeSocket.all[0]?.accept();
    socket.reconnect();
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(FakeSocket.all[0]?.readyState, 3, "the old socket is closed");
    assert.deepEqual(closes, [], "a reconnect is no close to handle");
    FakeSocket.all[1]?.accept();
    assert.equal(socket.generation, 2);
    socket.stop();
    socket.stop();
    assert.equal(stops(), 1);
    assert.equal(statuses.at(-1), "offline");
    socket.reconnect();
    socket.wake();
    mock.timers.tick(120_000);
    assert.equal(FakeSocket.all.length, 2, "nothing after stop");
  });
});
