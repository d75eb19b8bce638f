// Business hours (src/hours.ts, and as an away reason in src/ui/states.ts) and the away screen's
// return time (src/lazy/away.tsx, in the `loop` chunk).
// Imported by widget.test.ts, so `npm test` runs it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { judgeHours } from "../src/hours";
import type { State } from "../src/chat";
import { backText } from "../src/lazy/away";
import { closedHours, screen } from "../src/ui/states";

const H = 3_600_000;
const hours = (intervals: [number, number][]) => ({ open: false, away_message: "Away", intervals });

test("hours: outside before an interval, inside it, outside after; the next change", () => {
  const h = hours([
    [10 * H, 18 * H],
    [34 * H, 42 * H],
  ]);
  assert.deepEqual(judgeHours(h, 9 * H), { outside: true, backAt: 10 * H, changeAt: 10 * H });
  assert.deepEqual(judgeHours(h, 10 * H), { outside: false, backAt: null, changeAt: 18 * H });
  assert.deepEqual(judgeHours(h, 18 * H), { outside: true, backAt: 34 * H, changeAt: 34 * H });
  assert.deepEqual(judgeHours(h, 42 * H), { outside: true, backAt: null, changeAt: null });
});

test("hours: a space without hours is never away", () => {
  assert.deepEqual(judgeHours(null, 0), { outside: false, backAt: null, changeAt: null });
  assert.deepEqual(judgeHours(undefined, 0).outside, false);
});

test("the return time: today, tomorrow, a weekday, a date", () => {
  // Local times: the test runs in the machine's zone, as the widget does in the visitor's.
  const friday = new Date(2026, 11, 11, 18, 0).getTime();
  const at = (d: number, h: number, m = 0) => new Date(2026, 11, d, h, m).getTime();
  assert.equal(backText(at(11, 20, 30), friday, "en-GB"), "Back today at 20:30");
  assert.equal(backText(at(12, 9), friday, "en-GB"), "Back tomorrow at 9:00");
  assert.equal(backText(at(14, 9), friday, "en-GB"), "Back Monday at 9:00");
  assert.equal(backText(at(21, 9), friday, "en-US"), "Back Monday, December 21 at 9:00 AM");
});

test("away outside hours unless an agent holds the conversation; an answered end shows its end", () => {
  const now = Date.now();
  const closed = hours([[now + H, now + 2 * H]]); // opens in an hour
  const base = {
    online: true, queueFull: false, thanked: false, identified: false, ended: false, messages: [],
    thread: null, group: "", defaultGroup: "", groupsUp: null, hours: closed,
  } as unknown as State; // prettier-ignore
  const at = (patch: Partial<State>) => ({ ...base, ...patch });
  const wrote = [{ sender_type: "visitor" }] as State["messages"];
  const answered = [{ sender_type: "visitor" }, { sender_type: "agent" }] as State["messages"];
  assert.equal(closedHours(base), true, "an agent online does not matter");
  assert.equal(closedHours(at({ hours: hours([[now - H, now + H]]) })), false, "inside them");
  assert.equal(closedHours(at({ hours: null })), false, "no hours: always open");
  const waiting = { status: "unassigned" } as State["thread"];
  const held = { status: "active" } as State["thread"];
  assert.equal(closedHours(at({ thread: waiting })), true, "written outside hours, nobody holds it");
  assert.equal(closedHours(at({ thread: held })), false, "an agent holds it: it goes on");
  // The box first, then the form alone once written, as when nobody is online.
  assert.equal(screen(base), "chat");
  assert.equal(screen(at({ thread: waiting, messages: wrote })), "form");
  // A conversation that ended after an answer shows its end (the rating), not the form.
  const done = { status: "closed" } as State["thread"];
  assert.equal(screen(at({ thread: done, ended: true, messages: answered })), "chat");
  assert.equal(screen(at({ thread: done, ended: true, messages: wrote })), "form");
});
