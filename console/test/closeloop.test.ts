// Business hours as the space page edits them (src/businessHours.ts) and the ratings summary's
// text (src/ratings.ts). Imported by console.test.ts, so `npm test` runs it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { dayText, hoursFromForm, parseDay } from "../src/businessHours";
import { shareText } from "../src/ratings";

test("a day's ranges read from text and back", () => {
  assert.deepEqual(parseDay("9:00-12:00, 13:00 - 17:30"), [
    { open: "09:00", close: "12:00" },
    { open: "13:00", close: "17:30" },
  ]);
  assert.deepEqual(parseDay(""), []);
  assert.deepEqual(parseDay("22:00-02:00"), [{ open: "22:00", close: "02:00" }]);
  assert.equal(parseDay("nine to five"), null);
  assert.equal(dayText([{ open: "09:00", close: "17:00" }]), "09:00-17:00");
});

test("the hours form: closed days left out, a bad day named", () => {
  const data = new FormData();
  data.set("timezone", " Europe/Berlin ");
  data.set("away_message", "Away");
  data.set("hours_mon", "09:00-17:00");
  assert.deepEqual(hoursFromForm(data), {
    timezone: "Europe/Berlin",
    weekly: { mon: [{ open: "09:00", close: "17:00" }] },
    away_message: "Away",
  });
  data.set("hours_tue", "all day");
  assert.deepEqual(hoursFromForm(data), { bad: "Tuesday" });
});

test("the share of good ratings", () => {
  assert.equal(shareText({ total: 0, good: 0, bad: 0, share_good: null }), "No ratings yet");
  assert.equal(shareText({ total: 3, good: 2, bad: 1, share_good: 0.6667 }), "67% good (2 of 3)");
});
