// Unit tests of the console's logic that needs no browser: threads and lists, messages and
// their reconciliation, resume cursors, the sign-in's token rotation, the socket's state machine
// and the frame handlers. The browser behaviour is covered by tests/browser/test_console.py
// (Playwright, real service). Run by `npm test` (vite builds this file for node).

// Business hours and ratings (issue 17).
import "./closeloop.test";
import assert from "node:assert/strict";
import { mock, test } from "node:test";
// The shared package's tests (frontend/shared), run as this app's build compiles them.
import "@chat/shared/protocol.test";
import "@chat/shared/socket.test";
import "@chat/shared/linkify.test";
import "./lazy.test";
import { FakeSocket, flush } from "@chat/shared/testing";
import { ApiError, type Fetch } from "../src/api";
import { APPEARANCE_DEFAULTS, appearanceChanges, appearanceOf, previewConfig } from "../src/appearance";
import {
  type CannedResponse,
  expandPlaceholders,
  filterCanned,
  insertAt,
  MAX_SHOWN,
  slashQuery,
} from "../src/canned";
import { Auth, type RefreshResult, STORE_KEY } from "../src/auth";
import { pendingSignIn } from "../src/console";
import { words } from "../src/ui/BotRulesPage";
import { createConnection, HEARTBEAT_MS, type Status } from "../src/connection";
import { Cursors } from "../src/cursors";
import { t } from "../src/i18n";
import { LatestRead } from "../src/latest";
import { MessageLog } from "../src/messages";
import { type Agent, cameByEmail, type Group, type Message, type Thread } from "../src/protocol";
import { ThreadStore, waitingFor } from "../src/threads";
import { apiKeyFields } from "../src/ui/ApiKeysPage";
import { cannedFields } from "../src/ui/CannedPage";
import { checkedIds } from "../src/ui/GroupsPage";
import { botChoice } from "../src/ui/BotFirstField";
import { fromBot, handoverOf, placeHandover } from "../src/ui/HandoverLine";
import { groupSettings } from "../src/ui/SpaceGroupFields";
import { queueFields, queueSettings } from "../src/spaceSettings";
import { embedSnippet, parseDomains } from "../src/ui/SpacesPage";
import { replayBody, WEBHOOK_KINDS, webhookFields } from "../src/ui/WebhooksPage";

const ME = "a-me";

const thread = (id: string, extra: Partial<Thread> = {}): Thread => ({
  id,
  space_id: "s1",
  visitor_id: `v-${id}`,
  assigned_agent_id: null,
  status: "unassigned",
  last_activity_at: "2026-01-01T00:00:00.000Z",
  created_at: "2026-01-01T00:00:00.000Z",
  closed_at: null,
  ...extra,
});

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

const msg = (id: string, extra: Partial<Message> = {}): Message => ({
  id,
  thread_id: "t1",
  sender_type: "visitor",
  sender_id: "v1",
  sender_name: "Visitor",
  content: `m ${id}`,
  client_id: null,
  created_at: at(0),
  ...extra,
});

// --- ids, cursors ----------------------------------------------------------------------------

test("a cursor drops replays at or before it, per space", () => {
  const c = new Cursors();
  assert.ok(c.accept("s1", "10-0"));
  assert.ok(!c.accept("s1", "10-0"), "the same event twice");
  assert.ok(!c.accept("s1", "9-5"), "an older event");
  assert.ok(c.accept("s2", "9-5"), "another space has its own cursor");
  c.subscribing("s1");
  assert.ok(c.isReplaying("s1"));
  c.subscribed("s1", "12-0");
  assert.ok(!c.isReplaying("s1"));
  assert.equal(c.get("s1"), "12-0");
  c.subscribed("s1", "11-0"); // never backwards
  assert.equal(c.get("s1"), "12-0");
  c.forget("s1");
  assert.equal(c.get("s1"), undefined);
});

// --- threads and lists -----------------------------------------------------------------------

test("the later state of a thread wins, whichever way it came", () => {
  const s = new ThreadStore();
  s.upsert(
    thread("t1", { last_activity_at: at(5), status: "active", assigned_agent_id: ME }),
    true,
  );
  // A REST page read before the claim was projected: older, ignored.
  assert.equal(s.upsert(thread("t1", { last_activity_at: at(4) }), false), false);
  assert.equal(s.get("t1")?.status, "active");
  // The same millisecond: the further status wins.
  assert.ok(s.upsert(thread("t1", { last_activity_at: at(5), status: "closed" }), false));
  assert.equal(s.get("t1")?.status, "closed");
  assert.equal(s.upsert(thread("t1", { last_activity_at: at(5), status: "active" }), true), false);
  // A visitor is kept when a later copy has none.
  s.upsert(
    thread("t2", { visitor: { id: "v", name: "Ada", email: null, current_url: null } }),
    true,
  );
  s.upsert(thread("t2", { last_activity_at: at(9) }), true);
  assert.equal(s.get("t2")?.visitor?.name, "Ada");
});

test("lists follow the threads' state, newest activity first, the queue longest waiting first", () => {
  const s = new ThreadStore();
  s.upsert(thread("a", { created_at: at(1), last_activity_at: at(3) }), true);
  s.upsert(thread("b", { created_at: at(0), last_activity_at: at(1) }), true);
  s.upsert(thread("c", { last_activity_at: at(2), status: "active", assigned_agent_id: ME }), true);
  s.upsert(
    thread("d", { last_activity_at: at(4), status: "active", assigned_agent_id: "other" }),
    true,
  );
  s.upsert(thread("e", { status: "closed" }), true);
  s.upsert(thread("f", { space_id: "s2" }), true);
  const ids = (list: "queue" | "mine" | "active" | "closed") =>
    s.list("s1", list, ME).map((t) => t.id);
  assert.deepEqual(ids("queue"), ["b", "a"]);
  assert.deepEqual(ids("mine"), ["c"]);
  assert.deepEqual(ids("active"), ["d", "c"]);
  assert.deepEqual(ids("closed"), ["e"]);
  // A claim seen live moves the thread at once; a message moves it to the top.
  s.upsert(thread("a", { last_activity_at: at(6), status: "active", assigned_agent_id: ME }), true);
  assert.deepEqual(ids("queue"), ["b"]);
  assert.deepEqual(ids("mine"), ["a", "c"]);
  s.touch("c", at(7));
  assert.deepEqual(ids("mine"), ["c", "a"]);
});

test("the subscribe snapshot makes the open lists whole; the queue shows the waiting time", () => {
  const s = new ThreadStore();
  s.upsert(thread("q1", { created_at: at(5) }), true);
  s.upsert(thread("q2", { created_at: at(2) }), true);
  s.openListsComplete("s1");
  for (const list of ["queue", "mine", "active"] as const) {
    assert.equal(s.window("s1", list).loaded, true);
    assert.equal(s.window("s1", list).next, null);
  }
  assert.equal(s.window("s1", "closed").loaded, false); // REST brings the closed list
  assert.deepEqual(
    s.list("s1", "queue", ME).map((t) => t.id),
    ["q2", "q1"],
  );
  const start = Date.parse(at(0));
  assert.equal(waitingFor(at(0), start + 20_000), "under 1 min");
  assert.equal(waitingFor(at(0), start + 3 * 60_000 + 5_000), "3 min");
  assert.equal(waitingFor(at(0), start + 65 * 60_000), "1 h 5 min");
});

test("while a list has more pages, older threads wait for them", () => {
  const s = new ThreadStore();
  // Known from elsewhere (e.g. a visitor's earlier threads), older than the first page's end.
  s.upsert(thread("old", { status: "closed", last_activity_at: at(1) }), false);
  s.applyPage(
    "s1",
    "closed",
    [
      thread("p1", { status: "closed", last_activity_at: at(9) }),
      thread("p2", { status: "closed", last_activity_at: at(5) }),
    ],
    "cursor-1",
  );
  assert.deepEqual(
    s.list("s1", "closed", ME).map((t) => t.id),
    ["p1", "p2"],
  );
  // Closed live meanwhile: newer than the floor, shown at once.
  s.upsert(thread("new", { status: "closed", last_activity_at: at(20) }), true);
  s.applyPage("s1", "closed", [thread("old", { status: "closed", last_activity_at: at(1) })], null);
  assert.deepEqual(
    s.list("s1", "closed", ME).map((t) => t.id),
    ["new", "p1", "p2", "old"],
  );
});

// --- messages --------------------------------------------------------------------------------

test("an own message goes sending -> sent by its ack, keeping its key; the echo is not doubled", () => {
  const log = new MessageLog("t1");
  log.receive(msg("10-0"));
  log.write("c1", "hello", 0);
  const me = { id: ME, name: "Me" };
  let shown = log.shown(me);
  assert.deepEqual(
    shown.map((m) => [m.key, m.state]),
    [
      ["i:10-0", "sent"],
      ["c:c1", "sending"],
    ],
  );
  assert.ok(log.ack("c1", "11-0", at(1), me));
  // The echo on the feed, same id and client_id.
  assert.equal(
    log.receive(msg("11-0", { sender_type: "agent", sender_id: ME, client_id: "c1" })),
    false,
  );
  shown = log.shown(me);
  assert.deepEqual(
    shown.map((m) => [m.key, m.state, m.id]),
    [
      ["i:10-0", "sent", "10-0"],
      ["c:c1", "sent", "11-0"],
    ],
  );
});

test("the echo may come before the ack; a failed message is retried with its client_id", () => {
  const log = new MessageLog("t1");
  const me = { id: ME, name: "Me" };
  log.write("c1", "first", 0);
  assert.ok(
    log.receive(
      msg("5-0", { sender_type: "agent", sender_id: ME, client_id: "c1", content: "first" }),
    ),
  );
  assert.equal(log.ack("c1", "5-0", at(1), me), false, "already settled by the echo");
  assert.equal(log.shown(me).length, 1);
  log.write("c2", "second", 0);
  assert.ok(log.fail("c2", "rate_limited"));
  assert.equal(log.shown(me).at(-1)?.state, "failed");
  assert.deepEqual(log.sending(), []);
  assert.equal(log.retry("c2", 1)?.state, "sending");
  assert.deepEqual(
    log.sending().map((p) => p.client_id),
    ["c2"],
  );
});

test("a visitor message that came by email is told by its client_id", () => {
  const visitor = { sender_type: "visitor" as const };
  assert.equal(cameByEmail({ ...visitor, client_id: "email:0123456789abcdef" }), true);
  assert.equal(cameByEmail({ ...visitor, client_id: "lead-0123" }), true);
  assert.equal(cameByEmail({ ...visitor, client_id: "c7f1e2a0-0000-4000-8000-000000000000" }), false);
  assert.equal(cameByEmail({ ...visitor, client_id: null }), false);
  // An agent's client_id is the agent's own choice: it says nothing about the channel.
  assert.equal(cameByEmail({ sender_type: "agent", client_id: "email:x" }), false);
});

test("history pages merge by id and remember where the next older page starts", () => {
  const log = new MessageLog("t1");
  log.receive(msg("30-0")); // live before the history was read
  log.history({ items: [msg("20-0"), msg("30-0")], next_before: "20-0" }, false);
  assert.equal(log.before, "20-0");
  log.history({ items: [msg("10-0")], next_before: null }, true);
  assert.equal(log.before, null);
  assert.deepEqual(
    log.messages().map((m) => m.id),
    ["10-0", "20-0", "30-0"],
  );
  assert.equal(log.last()?.id, "30-0");
});

// --- the sign-in -----------------------------------------------------------------------------

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

function jwt(iat: number, exp: number, n: number): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "HS256" })}.${b64({ iat, exp, n })}.sig`;
}

const AGENT = { id: ME, name: "Me", role: "admin" } as Agent;

function server(now: () => number) {
  let issued = 0;
  const used = new Set<string>();
  const calls: string[] = [];
  const fetcher: Fetch = async (url, init) => {
    const body = init?.body ? JSON.parse(String(init.body)) : {};
    calls.push(url);
    const json = (status: number, data: unknown) =>
      new Response(JSON.stringify(data), {
        status,
        headers: { "content-type": "application/json" },
      });
    const pair = () => {
      issued += 1;
      const t = Math.floor(now() / 1000);
      return { access_token: jwt(t, t + 900, issued), refresh_token: `r${issued}` };
    };
    if (url.endsWith("/auth/login")) return json(200, { ...pair(), agent: AGENT });
    if (url.endsWith("/auth/refresh")) {
      if (used.has(body.refresh_token) || body.refresh_token === "revoked") {
        return json(401, { error: { code: "unauthorized", message: "invalid refresh token" } });
      }
      used.add(body.refresh_token);
      return json(200, pair());
    }
    const auth = (init?.headers as Record<string, string>).Authorization ?? "";
    if (auth.includes("expired"))
      return json(401, { error: { code: "unauthorized", message: "expired" } });
    return json(200, { ok: auth });
  };
  return { fetcher, calls, used };
}

function auth(storage = new MemoryStorage(), now = () => 1_000_000_000) {
  const srv = server(now);
  const ended: string[] = [];
  const a = new Auth(
    { storage: storage as unknown as Storage, fetch: srv.fetcher, now },
    { ended: (r) => ended.push(r), adopted: () => {} },
  );
  return { a, srv, ended, storage };
}

test("concurrent refreshes share one request; the rotated pair is stored at once", async () => {
  const { a, srv, storage } = auth();
  await a.signIn("me@example.com", "pw");
  const [x, y] = await Promise.all([a.refresh(), a.refresh()]);
  assert.deepEqual([x, y], ["ok", "ok"]);
  assert.equal(srv.calls.filter((u) => u.endsWith("/auth/refresh")).length, 1);
  assert.equal(a.session?.refresh_token, "r2");
  assert.equal(JSON.parse(storage.getItem(STORE_KEY) ?? "{}").refresh_token, "r2");
  assert.equal(a.session?.skew_ms, 0);
  await a.signOut(); // also stops its refresh timer
});

test("a pair another tab rotated is adopted, not spent again", async () => {
  const storage = new MemoryStorage();
  const one = auth(storage);
  await one.a.signIn("me@example.com", "pw");
  const two = auth(storage);
  assert.ok(two.a.restore());
  assert.equal(await one.a.refresh(), "ok"); // tab one rotates r1 -> r2
  assert.equal(await two.a.refresh(), "ok"); // tab two must not present r1 again
  assert.equal(two.a.session?.refresh_token, "r2");
  assert.equal(two.srv.calls.length, 0);
  await one.a.signOut();
  await two.a.signOut();
});

test("a 401 refreshes once and retries; a refused refresh ends the sign-in", async () => {
  const { a, ended, storage } = auth();
  await a.signIn("me@example.com", "pw");
  const tamper = (change: Record<string, string>) => {
    a.session = { ...a.session!, ...change };
    storage.setItem(STORE_KEY, JSON.stringify(a.session));
  };
  tamper({ access_token: "expired" });
  const answer = await a.api<{ ok: string }>("GET", "/auth/me");
  assert.match(answer.ok, /^Bearer /);
  assert.notEqual(a.session?.access_token, "expired");
  tamper({ access_token: "expired", refresh_token: "revoked" });
  await assert.rejects(
    a.api("GET", "/auth/me"),
    (err: unknown) => err instanceof ApiError && err.status === 401,
  );
  assert.equal(a.session, null);
  assert.equal(ended.length, 1);
});

test("expiry is judged on the server's clock", async () => {
  let clock = 1_000_000_000;
  const { a } = auth(new MemoryStorage(), () => clock);
  await a.signIn("me@example.com", "pw");
  // This browser's clock runs an hour ahead: the fresh token is not taken for expired.
  clock += 3_600_000;
  a.session = { ...a.session!, skew_ms: -3_600_000 };
  assert.ok(a.remaining() > 800_000);
  await a.signOut();
});

// --- the connection (the console's reading of a close; the backoff: frontend/shared) ---------

function connection(refresh: () => Promise<RefreshResult>) {
  FakeSocket.install({ type: "welcome", agent: AGENT, spaces: [] });
  const statuses: Status[] = [];
  const conn = createConnection({
    url: () => "ws://service/ws/agent?token=t",
    frame: () => {},
    status: (s) => statuses.push(s),
    refresh,
  });
  return { conn, statuses };
}

test("a socket dropped after its welcome is retried with backoff", async () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
  try {
    const { conn, statuses } = connection(async () => "ok");
    conn.start();
    await flush();
    FakeSocket.all[0]?.accept();
    assert.equal(statuses.at(-1), "connected");
    FakeSocket.all[0]?.drop(1006);
    assert.equal(statuses.at(-1), "offline");
    assert.equal(conn.send({ type: "ping" }), false);
    mock.timers.tick(30_000);
    await flush();
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(statuses.at(-1), "connecting");
  } finally {
    mock.timers.reset();
  }
});

test("the token is made fresh before each handshake, one refresh at a time", async () => {
  FakeSocket.install({ type: "welcome", agent: AGENT, spaces: [] });
  let prepared = 0;
  let finish: (ok: boolean) => void = () => {};
  const conn = createConnection({
    prepare: () => {
      prepared += 1;
      return new Promise<void>((resolve, reject) => {
        finish = (ok) => (ok ? resolve() : reject(new Error("offline")));
      });
    },
    url: () => "ws://service/ws/agent?token=t",
    frame: () => {},
    status: () => {},
    refresh: async () => "ok",
  });
  conn.start();
  assert.equal(FakeSocket.all.length, 0, "no handshake before the token is fresh");
  conn.reconnect();
  assert.equal(prepared, 1, "a second attempt waits for the refresh under way");
  finish(true);
  await flush();
  assert.equal(FakeSocket.all.length, 1);
  conn.reconnect();
  assert.equal(prepared, 2);
  finish(false);
  await flush();
  assert.equal(FakeSocket.all.length, 2, "a failed refresh: the handshake is tried anyway");
  conn.stop();
});

test("4001 refreshes the token and reconnects at once; a refused refresh stays down", async () => {
  let result: RefreshResult = "ok";
  let refreshed = 0;
  const { conn } = connection(async () => {
    refreshed += 1;
    return result;
  });
  conn.start();
  await flush();
  FakeSocket.all[0]?.accept();
  FakeSocket.all[0]?.drop(4001);
  await flush();
  assert.equal(refreshed, 1);
  assert.equal(FakeSocket.all.length, 2, "no backoff after a successful refresh");
  result = "ended";
  FakeSocket.all[1]?.accept();
  FakeSocket.all[1]?.drop(4001);
  await flush();
  assert.equal(refreshed, 2);
  assert.equal(FakeSocket.all.length, 2);
  conn.stop();
});

test("a heartbeat and a ping go out every 20 s while connected", async () => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
  try {
    const { conn } = connection(async () => "ok");
    conn.start();
    await flush();
    FakeSocket.all[0]?.accept();
    mock.timers.tick(HEARTBEAT_MS);
    assert.deepEqual(FakeSocket.all[0]?.sent, ['{"type":"heartbeat"}', '{"type":"ping"}']);
    conn.stop();
  } finally {
    mock.timers.reset();
  }
});

// --- admin helpers ---------------------------------------------------------------------------

test("queue settings: defaults until stored, minutes and hours to seconds, 0 turns off", () => {
  assert.deepEqual(queueFields(undefined), { cap: 100, idleMinutes: 30, reopenHours: 24 });
  assert.deepEqual(queueFields({ max_open_threads: 5, idle_close_seconds: 90 }), {
    cap: 5,
    idleMinutes: 1.5,
    reopenHours: 24,
  });
  const form = new FormData();
  form.set("max_open_threads", "250");
  form.set("idle_close_minutes", "0");
  form.set("reopen_window_hours", "1.5");
  assert.deepEqual(queueSettings(form), {
    max_open_threads: 250,
    idle_close_seconds: 0,
    reopen_window_seconds: 5400,
  });
  form.set("max_open_threads", "many");
  assert.equal(queueSettings(form), null);
});

test("allowed domains split on commas and newlines; the snippet is exact", () => {
  assert.deepEqual(parseDomains("a.example, b.example\n\n*.c.example ,"), [
    "a.example",
    "b.example",
    "*.c.example",
  ]);
  assert.equal(
    embedSnippet("https://chat.example", "wk_1"),
    '<script src="https://chat.example/widget.js" data-widget-key="wk_1" async></script>',
  );
});

// --- frames applied to the console -----------------------------------------------------------

/** A console signed in as AGENT on space s1, with a document enough for its title and alerts,
 * and the function that applies a frame to it. */
async function signedInConsole() {
  (globalThis as { document?: unknown }).document = {
    title: "",
    visibilityState: "visible",
    hasFocus: () => true,
  };
  const { Console } = await import("../src/console");
  const { onFrame } = await import("../src/live");
  const c = new Console();
  c.me = { ...AGENT, accepting_chats: true } as Agent;
  c.spaceId = "s1";
  return { c, onFrame };
}

test("frames: replays are dropped by cursor, unread counts visitor messages, acks settle sends", async () => {
  const { c, onFrame } = await signedInConsole();
  c.agents.set("other", { ...AGENT, id: "other", name: "Bo", is_online: false });
  const t = thread("t1", { visitor_id: "v1" });
  onFrame(c, { type: "subscribed", space_id: "s1", cursor: "1-0" });
  onFrame(c, {
    type: "thread.new",
    cursor: "2-0",
    thread: { ...t, visitor: { id: "v1", name: "Grace", email: null, current_url: null } },
  });
  const visitorMessage = { type: "message" as const, cursor: "3-0", ...msg("3-0") };
  onFrame(c, visitorMessage);
  assert.equal(c.unread.get("t1"), 1);
  assert.equal(c.visitors.get("v1")?.space_id, "s1");
  // After a reconnect the server replays from the cursor: nothing applies twice.
  c.cursors.subscribing("s1");
  onFrame(c, visitorMessage);
  onFrame(c, {
    type: "typing",
    thread_id: "t1",
    sender_type: "visitor",
    sender_id: "v1",
    active: true,
    cursor: "4-0",
  });
  assert.equal(c.typing.has("t1"), false, "a replayed typing frame is old news");
  onFrame(c, { type: "subscribed", space_id: "s1", cursor: "4-0" });
  assert.equal(c.unread.get("t1"), 1);
  onFrame(c, {
    type: "typing",
    thread_id: "t1",
    sender_type: "visitor",
    sender_id: "v1",
    active: true,
    cursor: "5-0",
  });
  assert.equal(c.typing.get("t1")?.who, "Grace");
  // The draft (typing preview) and the plain "typing" are separate entries, in either order: a
  // "typing" without a draft keeps the draft shown.
  const typingFrame = {
    type: "typing" as const,
    thread_id: "t1",
    sender_type: "visitor" as const,
    sender_id: "v1",
    active: true,
  };
  onFrame(c, { ...typingFrame, draft: "my order", cursor: "5-1" });
  onFrame(c, { ...typingFrame, cursor: "5-2" });
  assert.equal(c.typing.get("t1")?.draft, "my order");
  onFrame(c, { ...typingFrame, active: false, cursor: "5-3" });
  assert.equal(c.typing.has("t1"), false);
  // A visitor message ends their typing.
  onFrame(c, { type: "message", cursor: "6-0", ...msg("6-0") });
  assert.equal(c.typing.has("t1"), false);
  assert.equal(c.totalUnread(), 2);
  // An own message: sending, then the ack, then its echo on the feed.
  c.logOf("t1").write("c1", "hi", Date.now());
  onFrame(c, {
    type: "ack",
    ref: "message",
    client_id: "c1",
    id: "7-0",
    thread_id: "t1",
    created_at: at(7),
  });
  onFrame(c, {
    type: "message",
    cursor: "7-0",
    ...msg("7-0", { sender_type: "agent", sender_id: ME, client_id: "c1", content: "hi" }),
  });
  assert.deepEqual(
    c
      .logOf("t1")
      .shown(AGENT)
      .map((m) => [m.key, m.state]),
    [
      ["i:3-0", "sent"],
      ["i:6-0", "sent"],
      ["c:c1", "sent"],
    ],
  );
  assert.equal(c.totalUnread(), 2, "own messages are not unread");
  // Claimed by someone else: out of the queue, into "all active".
  onFrame(c, {
    type: "thread.updated",
    change: "claimed",
    by: "other",
    cursor: "8-0",
    thread: { ...t, status: "active", assigned_agent_id: "other", last_activity_at: at(30) },
  });
  assert.deepEqual(c.threads.list("s1", "queue", ME), []);
  assert.deepEqual(
    c.threads.list("s1", "active", ME).map((x) => x.id),
    ["t1"],
  );
  onFrame(c, { type: "presence", agent_id: "other", online: true, cursor: "9-0" });
  assert.deepEqual(
    c.onlineAgents().map((a) => a.id),
    ["other"],
  );
  // An error naming a client_id fails that send.
  c.logOf("t1").write("c2", "again", Date.now());
  onFrame(c, {
    type: "error",
    code: "thread_closed",
    message: "the thread is closed",
    client_id: "c2",
  });
  assert.equal(c.logOf("t1").shown(AGENT).at(-1)?.state, "failed");
  // An expired cursor: the space starts over (no cursor, lists to reload).
  onFrame(c, { type: "error", code: "cursor_expired", ref: "subscribe", space_id: "s1" });
  assert.equal(c.cursors.get("s1"), undefined);
  assert.equal(c.subscribedOnce.has("s1"), false);
  assert.equal(c.logOf("t1").stale, true);
  await new Promise((resolve) => setImmediate(resolve));
});

test("colleagues: who views a thread (a snapshot replaces a space's), who types in it", async () => {
  const { Colleagues, names } = await import("../src/colleagues");
  const { Console } = await import("../src/console");
  const { onFrame } = await import("../src/live");
  const { alsoHere, heldByOther } = await import("../src/colleagues");
  const plain = new Colleagues();
  plain.snapshot("s1", [{ thread_id: "t1", agent_ids: [ME, "b"] }]);
  assert.deepEqual(plain.viewing("t1", ME), ["b"], "this agent is not 'also here'");
  plain.snapshot("s1", []);
  assert.deepEqual(plain.viewing("t1", ME), [], "threads a snapshot leaves out: nobody");
  assert.equal(names(["Ada", "Bo", "Cy"]), "Ada, Bo and Cy");

  const c = new Console();
  c.me = { ...AGENT, accepting_chats: true } as Agent;
  c.agents.set("b", { ...AGENT, id: "b", name: "Bo", is_online: true });
  c.threads.upsert(thread("t1", { status: "active", assigned_agent_id: "b" }), true);
  onFrame(c, { type: "subscribed", space_id: "s1", cursor: "1-0", viewers: [] });
  onFrame(c, {
    type: "viewers",
    space_id: "s1",
    thread_id: "t1",
    agent_ids: ["b"],
    cursor: "2-0",
  });
  assert.deepEqual(alsoHere(c, "t1"), ["Bo"]);
  const stale = { type: "viewers" as const, space_id: "s1", thread_id: "t1", agent_ids: [] };
  onFrame(c, { ...stale, cursor: "2-0" });
  assert.deepEqual(alsoHere(c, "t1"), ["Bo"], "a replay at the cursor changes nothing");
  onFrame(c, {
    type: "typing",
    thread_id: "t1",
    sender_type: "agent",
    sender_id: "b",
    active: true,
    cursor: "3-0",
  });
  assert.deepEqual(c.colleagues.typingIn("t1"), ["Bo"]);
  assert.equal(c.typing.has("t1"), false, "a colleague's typing is not the visitor's");
  assert.equal(c.colleagues.sweep(Date.now() + 60_000), true, "typing goes away by itself");
  assert.deepEqual(c.colleagues.typingIn("t1"), []);
  onFrame(c, { ...stale, cursor: "4-0" });
  assert.deepEqual(alsoHere(c, "t1"), []);
  assert.equal(heldByOther(c, c.threads.get("t1") as Thread), "Bo");
  c.threads.upsert(thread("t2", { status: "active", assigned_agent_id: ME }), true);
  assert.equal(heldByOther(c, c.threads.get("t2") as Thread), null);
});

test("a group's members form sends the checked agents' ids", () => {
  const data = new FormData();
  assert.deepEqual(checkedIds(data), []);
  data.append("agent_ids", "a1");
  data.append("agent_ids", "a2");
  assert.deepEqual(checkedIds(data), ["a1", "a2"]);
});

test("a groups read older than a change or a later read is dropped when it comes back", async () => {
  const { c } = await signedInConsole();
  const group = (id: string) =>
    ({ id, name: id, strategy: "manual", sticky: false, agent_ids: [] }) as unknown as Group;
  const answers: ((items: Group[]) => void)[] = [];
  (c.auth as { api: unknown }).api = () =>
    new Promise((resolve) => answers.push((items) => resolve({ items })));
  // The page opens (a read goes out), then a Delete answers first.
  const opening = c.loadGroups();
  c.setGroups([]);
  answers[0]([group("g1")]);
  await opening;
  const ids = () => c.groups.map((g) => g.id);
  assert.deepEqual(ids(), [], "the deleted group does not come back");
  // Two reads: the first to come back is the older one.
  const older = c.loadGroups();
  const newer = c.loadGroups();
  answers[2]([group("g2")]);
  await newer;
  answers[1]([group("g1")]);
  await older;
  assert.deepEqual(ids(), ["g2"], "the newer read stands");
});

test("LatestRead: a read applies unless a later read or a change overtook it", () => {
  const reads = new LatestRead();
  const first = reads.start();
  assert.ok(first());
  reads.overtake();
  assert.ok(!first(), "a change made after it went out");
  const second = reads.start();
  const third = reads.start();
  assert.deepEqual([second(), third()], [false, true]);
});

test("a space's group settings: no group is null, the checkbox a boolean", () => {
  const none = new FormData();
  none.set("default_group_id", "");
  assert.deepEqual(groupSettings(none), { default_group_id: null, visitor_picks_group: false });
  const picked = new FormData();
  picked.set("default_group_id", "g1");
  picked.set("visitor_picks_group", "on");
  assert.deepEqual(groupSettings(picked), { default_group_id: "g1", visitor_picks_group: true });
});

// --- canned responses ----------------------------------------------------------------------

const canned = (shortcut: string, title: string, extra: Partial<CannedResponse> = {}) => ({
  id: `r-${shortcut}-${extra.scope ?? "organization"}`,
  organization_id: "o1",
  scope: "organization" as const,
  owner_agent_id: null,
  shortcut,
  title,
  content: `${title}!`,
  created_at: at(0),
  updated_at: at(0),
  ...extra,
});

const known = {
  visitorName: "Grace Hopper",
  visitorEmail: "grace@example.com",
  agentName: "Ada Lovelace",
  spaceName: "Shop",
};
const unknown = { visitorName: null, visitorEmail: null, agentName: "Ada", spaceName: null };

test("placeholders expand to what is known, else their fallback, else nothing", () => {
  const text =
    "Hi {{visitor.name}} ({{ visitor.email }}), {{agent.first_name}} from {{space.name}} here." +
    " {{visitor.first_name|there}}";
  assert.equal(
    expandPlaceholders(text, known),
    "Hi Grace Hopper (grace@example.com), Ada from Shop here. Grace",
  );
  assert.equal(
    expandPlaceholders("Hi {{visitor.name|there}}, {{agent.name}}{{space.name}}!", unknown),
    "Hi there, Ada!",
  );
  assert.equal(expandPlaceholders("Hi {{visitor.name | dear customer }}", unknown), "Hi dear customer");
  // A blank value counts as unknown.
  assert.equal(expandPlaceholders("Hi {{visitor.name|there}}", { ...known, visitorName: "  " }), "Hi there");
  // Unknown names and malformed braces stay as written, so the agent sees them.
  assert.equal(expandPlaceholders("{{visitor.phone}} {{agent}} {visitor.name}", known), "{{visitor.phone}} {{agent}} {visitor.name}");
  // A value is inserted as text, never read again as a placeholder.
  const sneaky = { ...known, visitorName: "{{agent.name}}" };
  assert.equal(expandPlaceholders("{{visitor.name}}", sneaky), "{{agent.name}}");
});

test("a slash at the start or after a space opens the picker with what follows it", () => {
  assert.deepEqual(slashQuery("/he", 3), { start: 0, query: "he" });
  assert.deepEqual(slashQuery("/", 1), { start: 0, query: "" });
  assert.deepEqual(slashQuery("Thanks! /Re", 11), { start: 8, query: "re" });
  assert.deepEqual(slashQuery("line\n/bye now", 9), { start: 5, query: "bye" });
  assert.equal(slashQuery("and/or", 6), null, "not after a letter");
  assert.equal(slashQuery("https://x", 9), null);
  assert.equal(slashQuery("/he llo", 7), null, "the caret is past the word");
  assert.equal(slashQuery("/hé", 3), null, "not a shortcut's characters");
  assert.equal(slashQuery(`/${"a".repeat(33)}`, 34), null, "longer than any shortcut");
  assert.deepEqual(slashQuery("/hello there", 3), { start: 0, query: "he" }, "up to the caret");
});

test("the filter puts shortcut prefixes first, then titles with a word starting so", () => {
  const list = [
    canned("bye", "Goodbye"),
    canned("hello", "Greeting"),
    canned("hello", "My own hello", { scope: "personal", owner_agent_id: "a-me" }),
    canned("refund", "Help with a refund"),
    canned("shipping", "Shipping help"),
  ];
  const names = (q: string) => filterCanned(list, q).map((r) => `${r.shortcut}:${r.title}`);
  assert.deepEqual(names("he"), [
    "hello:Greeting",
    "hello:My own hello",
    "refund:Help with a refund",
    "shipping:Shipping help",
  ]);
  assert.deepEqual(names("HEL"), ["hello:Greeting", "hello:My own hello", "refund:Help with a refund", "shipping:Shipping help"]);
  assert.deepEqual(names("good"), ["bye:Goodbye"]);
  assert.deepEqual(names("ello"), [], "a prefix, not a substring");
  assert.equal(filterCanned(list, "").length, list.length);
  const many = Array.from({ length: 50 }, (_, n) => canned(`r${n}`, `T ${n}`));
  assert.equal(filterCanned(many, "r").length, MAX_SHOWN);
});

test("inserting replaces the /query and puts the caret after the text", () => {
  assert.deepEqual(insertAt("/he", 0, 3, "Hello Grace!"), { text: "Hello Grace!", caret: 12 });
  assert.deepEqual(insertAt("Sure. /he and more", 6, 9, "Hi"), { text: "Sure. Hi and more", caret: 8 });
});

test("the canned form sends the shortcut without its slash, lowercased, and trimmed fields", () => {
  const data = new FormData();
  data.set("shortcut", " /Hello ");
  data.set("title", " Greeting ");
  data.set("content", " Hi {{visitor.name|there}} ");
  assert.deepEqual(cannedFields(data), {
    shortcut: "hello",
    title: "Greeting",
    content: "Hi {{visitor.name|there}}",
  });
});

test("the API key form sends the name trimmed and the checked scopes in a fixed order", () => {
  const data = new FormData();
  data.set("name", "  CRM sync ");
  data.append("scopes", "admin");
  data.append("scopes", "read");
  assert.deepEqual(apiKeyFields(data), { name: "CRM sync", scopes: ["read", "admin"] });
  assert.deepEqual(apiKeyFields(new FormData()), { name: "", scopes: [] });
});

test("a right password that owes a second factor: the challenge, then the code signs in", async () => {
  const storage = new MemoryStorage();
  const bodies: unknown[] = [];
  const fetcher: Fetch = async (url, init) => {
    bodies.push(JSON.parse(String(init?.body ?? "{}")));
    const json = (status: number, data: unknown) => new Response(JSON.stringify(data), { status });
    if (url.endsWith("/auth/login"))
      return json(401, {
        error: {
          code: "two_factor_code_required",
          message: "code needed",
          details: { challenge_token: "ch", expires_in: 300 },
        },
      });
    const t = 1_000_000;
    return json(200, { access_token: jwt(t, t + 900, 1), refresh_token: "r1", agent: AGENT });
  };
  const a = new Auth(
    { storage: storage as unknown as Storage, fetch: fetcher, now: () => 1_000_000_000 },
    { ended: () => {}, adopted: () => {} },
  );
  const err = await a.signIn("me@example.com", "pw").catch((e: unknown) => e);
  assert.deepEqual(pendingSignIn(err), { kind: "challenge", token: "ch" });
  const session = () => a.session; // read anew: a call changes it
  assert.equal(session(), null);
  const enrol = new ApiError(403, "two_factor_required", "enrol", { enrolment_token: "en" });
  assert.deepEqual(pendingSignIn(enrol), { kind: "enrol", token: "en" });
  assert.equal(pendingSignIn(new ApiError(401, "invalid_credentials", "no")), null);
  const agent = await a.secondFactor("ch", { code: "123456" });
  assert.equal(agent.id, ME);
  assert.deepEqual(bodies.at(-1), { challenge_token: "ch", code: "123456" });
  assert.equal(session()?.refresh_token, "r1");
  await a.signOut();
});

// --- webhooks ---------------------------------------------------------------------------------

test("webhookFields: the ticked kinds in the API's order, the URL trimmed", () => {
  const data = new FormData();
  data.set("url", "  https://hooks.example.com/in ");
  data.append("kinds", "note.created");
  data.append("kinds", "message.created");
  data.set("description", " CRM ");
  assert.deepEqual(webhookFields(data), {
    url: "https://hooks.example.com/in",
    kinds: ["message.created", "note.created"],
    description: "CRM",
  });
  assert.equal(WEBHOOK_KINDS.length, 17);
  // A bot's handover is a public kind, after regrouped as in chat/webhooks/events.py.
  assert.equal(WEBHOOK_KINDS.indexOf("thread.handed_over"), WEBHOOK_KINDS.indexOf("thread.regrouped") + 1);
});

test("replayBody: a stream id is an event id, anything else a time", () => {
  assert.deepEqual(replayBody(" 1765000000000-3 "), { from_event_id: "1765000000000-3" });
  assert.deepEqual(replayBody("2026-12-01T09:00:00Z"), { from_time: "2026-12-01T09:00:00.000Z" });
});

test("texts come from the catalogue, with their parameters filled in", () => {
  assert.equal(t("signIn"), "Sign in");
  assert.equal(t("unread", { n: 3 }), "3 unread");
  assert.equal(t("typing", { name: "Bea" }), "Bea is typing…");
  assert.equal(t("loadFailed", {}), "Could not load messages ({error}). Retry", "a missing one stays");
});

test("appearance: stored settings with defaults, only changes saved, the preview's config", () => {
  const stored = { color: "#00aa00", greeting: "Hello", max_open_threads: 3 };
  const shown = appearanceOf(stored);
  assert.deepEqual(shown, {
    color: "#00aa00",
    greeting: "Hello",
    position: "right",
    launcher_label: "",
  });
  assert.deepEqual(appearanceOf({ color: "red", position: "middle" }), APPEARANCE_DEFAULTS);
  assert.deepEqual(appearanceChanges(stored, shown), {});
  assert.deepEqual(appearanceChanges(stored, { ...shown, position: "left", launcher_label: "Hi" }), {
    position: "left",
    launcher_label: "Hi",
  });
  const space = { id: "s1", name: "Shop", settings: stored };
  const config = previewConfig(space, { ...shown, color: "#112233" }, null);
  assert.equal(config.space.settings.color, "#112233");
  assert.equal((config.space.settings as Record<string, unknown>).max_open_threads, 3, "others kept");
  assert.deepEqual(config.team, { members: [], others: 0 });
  assert.equal(config.reply_time, null);
});

test("the bot rules page reads comma-separated lists: trimmed, blanks left out", () => {
  assert.deepEqual(words(" price, cost ,, delivery time ,"), ["price", "cost", "delivery time"]);
  assert.deepEqual(words(""), []);
});

// --- bots (README "Bots") ----------------------------------------------------------------------

test("the bot-first select: nobody is null, a bot its id", () => {
  const none = new FormData();
  none.set("bot_agent_id", "");
  assert.equal(botChoice(none), null);
  assert.equal(botChoice(new FormData()), null);
  const picked = new FormData();
  picked.set("bot_agent_id", "b1");
  assert.equal(botChoice(picked), "b1");
});

test("a handover goes where it happened: by time, else after the bot's last message", () => {
  const items = [
    msg("1-0", { created_at: at(1) }),
    msg("2-0", { created_at: at(2), sender_type: "agent", sender_id: "bot" }),
    msg("3-0", { created_at: at(3) }),
  ];
  const ids = (list: object[]) => list.map((i) => ("bot_id" in i ? "handover" : (i as Message).id));
  assert.deepEqual(ids(placeHandover(items, null)), ["1-0", "2-0", "3-0"]);
  assert.deepEqual(ids(placeHandover(items, { bot_id: "bot", at: at(2) })), [
    "1-0",
    "2-0",
    "handover",
    "3-0",
  ]);
  assert.deepEqual(ids(placeHandover(items, { bot_id: "bot" })), ["1-0", "2-0", "handover", "3-0"]);
  assert.deepEqual(ids(placeHandover(items, { bot_id: "gone" })), ["1-0", "2-0", "3-0", "handover"]);
});

test("a live message keeps its file, whether an own message's echo or its ack comes first", async () => {
  const { c, onFrame } = await signedInConsole();
  onFrame(c, { type: "subscribed", space_id: "s1", cursor: "1-0" });
  onFrame(c, { type: "thread.new", cursor: "2-0", thread: thread("t1", { visitor_id: "v1" }) });
  const file = { id: "f1", name: "diagram.png", content_type: "image/png", size: 64 };
  // A visitor's file, live.
  onFrame(c, { type: "message", cursor: "3-0", ...msg("3-0"), attachment: file });
  // An own file: the echo on the feed before the ack (a loaded server sends them so).
  c.logOf("t1").write("c1", "diagram.png", Date.now(), file);
  onFrame(c, {
    type: "message",
    cursor: "4-0",
    ...msg("4-0", { sender_type: "agent", sender_id: ME, client_id: "c1", content: "diagram.png" }),
    attachment: file,
  });
  onFrame(c, {
    type: "ack",
    ref: "message",
    client_id: "c1",
    id: "4-0",
    thread_id: "t1",
    created_at: at(4),
  });
  assert.deepEqual(
    c
      .logOf("t1")
      .shown(AGENT)
      .map((m) => [m.key, m.state, m.attachment?.id]),
    [
      ["i:3-0", "sent", "f1"],
      ["c:c1", "sent", "f1"],
    ],
  );
  await new Promise((resolve) => setImmediate(resolve));
});

test("frames: a handed_over change is kept for the timeline; a bot's messages are a bot's", async () => {
  const { c, onFrame } = await signedInConsole();
  c.agents.set("bot", { ...AGENT, id: "bot", name: "Shopbot", kind: "bot", is_online: false });
  c.agents.set("bo", { ...AGENT, id: "bo", name: "Bo", kind: "human", is_online: true });
  onFrame(c, { type: "subscribed", space_id: "s1", cursor: "1-0" });
  const held = thread("t1", { status: "active", assigned_agent_id: "bot", bot_agent_id: "bot" });
  onFrame(c, { type: "thread.new", cursor: "2-0", thread: held });
  assert.equal(handoverOf(c, held), null, "its bot holds it");
  const left = thread("t1", { bot_agent_id: "bot", last_activity_at: at(7) });
  onFrame(c, {
    type: "thread.updated",
    change: "handed_over",
    by: "bot",
    agent_id: "bot",
    reason: "visitor_asked",
    note: "Name: Grace",
    thread: left,
    cursor: "3-0",
  });
  assert.deepEqual(handoverOf(c, left), {
    bot_id: "bot",
    reason: "visitor_asked",
    note: "Name: Grace",
    at: at(7),
  });
  // A later REST copy (PostgreSQL does not name the bot) keeps the bot the log named.
  c.threads.upsert(thread("t1", { last_activity_at: at(9), status: "active", assigned_agent_id: "bo" }), false);
  assert.equal(c.threads.get("t1")?.bot_agent_id, "bot");
  // Read later (no frame seen): the thread's bot_agent_id still tells it left its bot.
  assert.deepEqual(handoverOf(c, thread("t2", { bot_agent_id: "bot", assigned_agent_id: "bo" })), {
    bot_id: "bot",
  });
  assert.ok(fromBot(c, { sender_type: "agent", sender_id: "bot" }));
  assert.ok(!fromBot(c, { sender_type: "agent", sender_id: "bo" }));
  assert.ok(!fromBot(c, { sender_type: "visitor", sender_id: "bot" }));
  // The conversation's bot, before GET /agents has told its kind:
  assert.ok(fromBot(c, { sender_type: "agent", sender_id: "b2" }, thread("t3", { bot_agent_id: "b2" })));
  // A bot is never among the agents online, nor a transfer target.
  c.agents.set("bot", { ...c.agents.get("bot")!, is_online: true });
  assert.deepEqual(c.onlineAgents().map((a) => a.id), ["bo"]);
  assert.deepEqual(c.transferTargets().map((a) => a.id), ["bo"]);
});
