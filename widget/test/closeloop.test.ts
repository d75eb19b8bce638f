// Business hours (src/hours.ts) and the away screen's return time (src/lazy/away.tsx, a lazy chunk).
// Imported by widget.test.ts, so `npm test` runs it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { judgeHours } from "../src/hours";
import { backText } from "../src/lazy/away";

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
