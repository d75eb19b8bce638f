// Unit tests of the widget's logic that needs no browser: message bookkeeping and the socket
// state machine (with a fake WebSocket and fake timers). The browser behaviour is covered by
// tests/browser (Playwright, real service). Run by `npm test` (vite builds this file for node).

import assert from "node:assert/strict";
import { mock, test } from "node:test";
// The shared package's tests (frontend/shared), run as this app's build compiles them.
import "@chat/shared/protocol.test";
import "@chat/shared/socket.test";
// Business hours and the return time (issue 17).
import "./closeloop.test";
import "./i18n.test";
import "@chat/shared/linkify.test";
import { FakeSocket } from "@chat/shared/testing";
import { Files, uploadError } from "../src/attachments";
import type { Verdict } from "../src/config";
import { createConnection, type Status } from "../src/connection";
import { noAgent } from "../src/groups";
import { t } from "../src/i18n";
import { hue, initials, names, readTeam, replyLine } from "../src/lazy/team";
import { Messages } from "../src/messages";
import type { State } from "../src/chat";
import { awayLine, screen, statusLine } from "../src/ui/states";
import type { MessageJson } from "../src/protocol";

const msg = (id: string, extra: Partial<MessageJson> = {}): MessageJson => ({
  id,
  thread_id: "t1",
  sender_type: "agent",
  sender_name: "Ada",
  content: `m ${id}`,
  created_at: "2026-01-01T00:00:00Z",
  ...extra,
});

test("messages are deduplicated by id and ordered by id, unsent ones last", () => {
  const log = new Messages();
  const own = log.write("c1", "hello");
  assert.ok(log.receive(msg("20-0")));
  assert.equal(log.receive(msg("20-0")), undefined, "the same id twice");
  assert.ok(log.receive(msg("10-0")));
  assert.deepEqual(
    log.snapshot().map((m) => m.id ?? m.client_id),
    ["10-0", "20-0", "c1"],
  );
  assert.equal(own.state, "sending");
  assert.equal(log.last, "20-0");
});

test("a message keeps the server's fields: its quick replies, nulls made absent", () => {
  const log = new Messages();
  const buttons = [{ label: "Pricing" }, { label: "Talk to the team" }];
  const got = log.receive(msg("30-0", { quick_replies: buttons, client_id: null, attachment: null }));
  assert.ok(got);
  assert.deepEqual(got.quick_replies, buttons);
  assert.equal(got.client_id, undefined);
  assert.equal(got.attachment, undefined);
  assert.equal(got.key, "i30-0");
  assert.equal(log.receive(msg("31-0"))?.quick_replies, undefined);
});

test("an own message is confirmed once, by its ack or by its echo", () => {
  const log = new Messages();
  const own = log.write("c1", "hello");
  assert.equal(log.settle(own, "15-0", "2026-01-01T00:00:01Z", "t1"), true);
  assert.equal(own.state, "sent");
  // The same message in a history after a reconnect: known by id, not added.
  assert.equal(log.receive(msg("15-0", { sender_type: "visitor", client_id: "c1" })), undefined);
  assert.equal(log.last, null, "an ack never moves the resume cursor");
  // An echo from another tab of a message this tab has not seen acked yet settles it.
  const other = log.write("c2", "again");
  const echo = log.receive(msg("16-0", { sender_type: "visitor", client_id: "c2" }));
  assert.equal(echo, other);
  assert.equal(log.snapshot().length, 2);
});

test("at most 500 messages are kept: the oldest stored go, never an unsent one", () => {
  const log = new Messages();
  for (let i = 1; i <= 510; i++) log.receive(msg(`${i}-0`));
  log.write("c1", "pending");
  const kept = log.snapshot();
  assert.equal(kept.length, 500);
  assert.equal(kept[0].id, "12-0");
  assert.equal(kept.at(-1)?.client_id, "c1");
});

test("switching threads keeps only the new thread's messages", () => {
  const log = new Messages();
  log.receive(msg("1-0", { thread_id: "old" }));
  log.receive(msg("2-0", { thread_id: "new" }));
  log.write("c1", "unsent");
  log.keepThread("new");
  assert.deepEqual(
    log.snapshot().map((m) => m.id ?? m.client_id),
    ["2-0", "c1"],
  );
});

// --- the connection (the widget's reading of a close; the backoff: frontend/shared) -----------

function connection(verdict: Verdict = "down") {
  FakeSocket.install({ type: "welcome", session: "s", history: [] });
  const statuses: Status[] = [];
  let stopped = 0;
  const conn = createConnection({
    url: () => "ws://service/ws/widget?key=k",
    frame: () => {},
    status: (s) => statuses.push(s),
    stopped: () => stopped++,
    probe: async () => verdict,
  });
  return { conn, statuses, stopped: () => stopped };
}

test("a socket dropped after its welcome is retried with backoff", () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
  try {
    const { conn, statuses } = connection();
    conn.start();
    FakeSocket.all[0].accept();
    assert.equal(statuses.at(-1), "connected");
    assert.ok(conn.send({ type: "ping" }));
    FakeSocket.all[0].drop(1006);
    assert.equal(statuses.at(-1), "offline");
    assert.equal(conn.send({ type: "ping" }), false);
    mock.timers.tick(30_000); // whatever the jitter, within the cap
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(statuses.at(-1), "connecting");
  } finally {
    mock.timers.reset();
  }
});

test("1013 reconnects at once; 4004 never again", () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
  try {
    const { conn, stopped } = connection();
    conn.start();
    FakeSocket.all[0].accept();
    FakeSocket.all[0].drop(1013);
    assert.equal(FakeSocket.all.length, 2, "no wait after 1013");
    FakeSocket.all[1].accept();
    FakeSocket.all[1].drop(4004);
    mock.timers.tick(120_000);
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(stopped(), 1);
  } finally {
    mock.timers.reset();
  }
});

test("a refused handshake whose key is gone stops", async () => {
  const { conn, stopped } = connection("gone");
  conn.start();
  FakeSocket.all[0].drop(1006, false);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped(), 1);
});

test("a ping goes out every 25 s while connected", () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
  try {
    const { conn } = connection();
    conn.start();
    FakeSocket.all[0].accept();
    mock.timers.tick(25_000);
    assert.deepEqual(FakeSocket.all[0].sent, ['{"type":"ping"}']);
  } finally {
    mock.timers.reset();
  }
});

test("the offline form is offered when the visitor's group has no eligible agent", () => {
  const up = { g1: true, g2: false };
  const view = { thread: null, group: "", defaultGroup: "g2", groupsUp: up };
  assert.equal(noAgent(view), true, "the default group has nobody");
  assert.equal(noAgent({ ...view, group: "g1" }), false, "the pick has someone");
  assert.equal(noAgent({ ...view, groupsUp: null }), false, "unknown: not away");
  assert.equal(noAgent({ ...view, defaultGroup: "" }), false, "no group: the whole team");
  const waiting = { id: "t1", status: "unassigned" as const, group_id: "g2" };
  assert.equal(noAgent({ ...view, group: "g1", thread: waiting }), true, "the thread's group counts");
  assert.equal(noAgent({ ...view, thread: { ...waiting, status: "active" } }), false);
});

test("a message's file is kept, an own one's through its echo", () => {
  const log = new Messages();
  const file = { id: "f1", name: "a.png", content_type: "image/png", size: 3 };
  log.write("c1", "a.png", file);
  const echo = log.receive(msg("5-0", { sender_type: "visitor", client_id: "c1", content: "a.png" }));
  assert.deepEqual(echo?.attachment, file);
  const theirs = log.receive(msg("6-0", { attachment: { ...file, id: "f2" } }));
  assert.equal(theirs?.attachment?.id, "f2");
  assert.equal(log.receive(msg("7-0"))?.attachment, undefined);
});

test("upload errors read as sentences, by the server's code", () => {
  assert.equal(uploadError("too_large", 5_000_000), "This file is too large (at most 5 MB).");
  assert.equal(uploadError("too_large"), "This file is too large.");
  assert.equal(uploadError("file_type_not_allowed"), "This type of file cannot be sent.");
  assert.match(uploadError("unavailable"), /could not be sent/);
});

test("a file's link is asked for once and reused until shortly before it expires", async () => {
  const asked: string[] = [];
  let expires = Date.now() + 300_000;
  const fake = mock.method(globalThis, "fetch", async (url: string) => {
    asked.push(url);
    const attachment = { id: "f1", name: "a.png", content_type: "image/png", size: 3 };
    const body = { attachment, url: `/api/v1/files/f1?n=${asked.length}`, expires_at: new Date(expires).toISOString() };
    return new Response(JSON.stringify(body), { status: 200 });
  });
  let changes = 0;
  const files = new Files({ key: "k", http: "https://chat.test", ws: "wss://chat.test", nonce: "" }, () => changes++);
  try {
    assert.equal(files.link("f1", "s"), undefined, "none yet: asked for");
    assert.equal(files.link("f1", "s"), undefined, "asked once at a time");
    await new Promise((done) => setTimeout(done, 0));
    assert.equal(files.link("f1", "s"), "https://chat.test/api/v1/files/f1?n=1");
    assert.equal(asked.length, 1);
    assert.equal(changes, 1);
    assert.equal(files.link("f1", null), "https://chat.test/api/v1/files/f1?n=1");
    expires = Date.now() + 10_000; // the next link is about to expire: asked again on use
    assert.equal(await files.ask("f1", "s"), "https://chat.test/api/v1/files/f1?n=2");
    assert.equal(files.fresh("f1"), false);
    assert.equal(files.link("f1", "s"), "https://chat.test/api/v1/files/f1?n=2", "the old one meanwhile");
    assert.equal(asked.length, 3);
    assert.match(asked[0] ?? "", /\/api\/v1\/widget\/k\/attachments\/f1\/link$/);
  } finally {
    fake.mock.restore();
  }
});

test("the header's team: names, initials, pictures only from the service, reply buckets", () => {
  const service = "https://chat.example.com";
  const view = readTeam(
    {
      members: [
        { name: "Ana María López", avatar_url: "/api/v1/avatars/a1" },
        { name: "Li", avatar_url: "https://evil.example.net/x.png" },
        { name: "", avatar_url: null },
        { name: "Cy", avatar_url: "/api/v1/avatars/c" },
      ],
      others: 2,
    },
    "hour",
    service,
  );
  assert.deepEqual(view.faces, [
    { name: "Ana María López", avatar: "https://chat.example.com/api/v1/avatars/a1" },
    { name: "Li", avatar: "" },
  ]); // at most 3 are read: the nameless third is skipped, the fourth never looked at
  assert.equal(names(view.faces, view.others), "Ana María López, Li, and 2 others");
  assert.equal(names([...view.faces, { name: "Cy", avatar: "" }], 0), "Ana María López, Li, and Cy");
  assert.equal(names(view.faces, 0), "Ana María López and Li");
  assert.equal(names(view.faces.slice(0, 1), 1), "Ana María López and 1 other");
  assert.equal(names([], 0), "");
  assert.equal(initials("Ana María López"), "AL");
  assert.equal(initials(" li "), "L");
  assert.equal(replyLine(view.reply), "Usually replies within an hour");
  assert.equal(readTeam(undefined, "soon", service).reply, null);
  const hostile = readTeam({ members: [{ name: "X", avatar_url: "javascript:alert(1)" }] }, null, service);
  assert.equal(hostile.faces[0].avatar, "");
  assert.equal(replyLine(null), "");
  assert.equal(hue("Ana"), hue("Ana"));
});

test("away: the leave-a-message form or the message box, never both, with one sentence", () => {
  const base = {
    online: true, queueFull: false, thanked: false, identified: false, ended: false, messages: [],
    thread: null, group: "", defaultGroup: "", groupsUp: null, status: "connected", stopped: false,
  } as unknown as State; // prettier-ignore
  const at = (patch: Partial<State>) => ({ ...base, ...patch });
  const wrote = [{ sender_type: "visitor" }] as State["messages"];
  const answered = [{ sender_type: "agent" }] as State["messages"];
  assert.equal(screen(base), "chat");
  assert.equal(awayLine(base), "");
  assert.equal(screen(at({ messages: wrote })), "chat", "someone is there");
  // Nobody online: the box first, with one sentence; once written, the form alone.
  assert.equal(screen(at({ online: false })), "chat");
  assert.equal(awayLine(at({ online: false })), t("away"));
  assert.equal(screen(at({ online: false, messages: answered })), "chat");
  assert.equal(screen(at({ online: false, messages: wrote })), "form");
  // The form sent (or the page identified the visitor): the box again, with the thanks.
  assert.equal(screen(at({ online: false, messages: wrote, thanked: true, identified: true })), "chat");
  assert.equal(awayLine(at({ online: false, thanked: true })), t("thanks"));
  assert.equal(screen(at({ online: false, messages: wrote, identified: true })), "chat");
  // The queue is full (a new conversation refused): the form, identified or not.
  assert.equal(screen(at({ queueFull: true, identified: true })), "form");
  // The visitor's group has nobody: as nobody online.
  assert.equal(screen(at({ group: "g1", groupsUp: { g1: false }, messages: wrote })), "form");
  assert.equal(screen(at({ group: "g1", groupsUp: { g1: true }, messages: wrote })), "chat");
  // The header never shows the socket's state names.
  assert.equal(statusLine(base), "");
  assert.equal(statusLine(at({ status: "offline" })), t("reconnecting"));
  assert.equal(statusLine(at({ status: "offline", stopped: true })), "");
});
