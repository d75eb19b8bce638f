// Business hours (structures.md "Business hours"): the server sends the open intervals ahead
// (UTC ms, every time-zone and daylight-saving rule applied there); this module says whether
// `now` is outside them, when the team is back, and when the verdict next changes, so an open
// widget flips to away (and back) at the boundary on a timer. The visitor's clock is trusted.

import type { HoursJson } from "./protocol";

export interface HoursVerdict {
  /** Outside business hours: the away screen and the leave-a-message form. */
  outside: boolean;
  /** When the team is back (ms), while outside; null when unknown (past the horizon). */
  backAt: number | null;
  /** When this verdict changes next (ms); null: not within the intervals given. */
  changeAt: number | null;
}

export function judgeHours(hours: HoursJson | null | undefined, now: number): HoursVerdict {
  if (!hours || !Array.isArray(hours.intervals)) return { outside: false, backAt: null, changeAt: null };
  for (const [start, end] of hours.intervals) {
    if (now < start) return { outside: true, backAt: start, changeAt: start };
    if (now < end) return { outside: false, backAt: null, changeAt: end };
  }
  return { outside: true, backAt: null, changeAt: null };
}
