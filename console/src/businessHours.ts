// Business hours as the space page edits them (README "Business hours"): a day's ranges as text,
// "09:00-12:00, 13:00-17:00", parsed into the setting's {open, close} ranges. The server checks
// the rest (the time zone, overlaps) and its 422 names the field.

import { type Key, t } from "./i18n";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** Each weekday's name's key in the console's catalogue (src/locales/en.ts). */
export const WEEKDAY_NAMES: Record<Weekday, Key> = {
  mon: "monday",
  tue: "tuesday",
  wed: "wednesday",
  thu: "thursday",
  fri: "friday",
  sat: "saturday",
  sun: "sunday",
};

export interface TimeRange {
  open: string;
  close: string;
}

export interface BusinessHours {
  timezone: string;
  weekly: Partial<Record<Weekday, TimeRange[]>>;
  away_message: string;
}

const RANGE = /^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$/;

/** "9:00" -> "09:00". */
function hhmm(text: string): string {
  return text.length === 4 ? `0${text}` : text;
}

export function dayText(ranges: TimeRange[] | undefined): string {
  return (ranges ?? []).map((r) => `${r.open}-${r.close}`).join(", ");
}

/** A day's ranges from "09:00-12:00, 13:00-17:00" ("" is closed); null when a part is not a
 * range. A close before the open runs overnight. */
export function parseDay(text: string): TimeRange[] | null {
  const parts = text.split(",").map((p) => p.trim()).filter(Boolean);
  const ranges: TimeRange[] = [];
  for (const part of parts) {
    const m = RANGE.exec(part);
    if (!m) return null;
    ranges.push({ open: hhmm(m[1]), close: hhmm(m[2]) });
  }
  return ranges;
}

export function storedHours(settings: Record<string, unknown> | undefined): BusinessHours | null {
  const hours = settings?.business_hours;
  return hours && typeof hours === "object" ? (hours as BusinessHours) : null;
}

/** The setting a submitted form sets, or the name of the day that does not read. */
export function hoursFromForm(data: FormData): BusinessHours | { bad: string } {
  const weekly: Partial<Record<Weekday, TimeRange[]>> = {};
  for (const day of WEEKDAYS) {
    const ranges = parseDay(String(data.get(`hours_${day}`) ?? ""));
    if (ranges === null) return { bad: t(WEEKDAY_NAMES[day]) };
    if (ranges.length) weekly[day] = ranges;
  }
  return {
    timezone: String(data.get("timezone") ?? "").trim(),
    weekly,
    away_message: String(data.get("away_message") ?? "").trim(),
  };
}
