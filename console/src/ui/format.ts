// Small display helpers. Everything here returns plain strings: the components render them as
// text nodes, never as HTML.

import { ms, type ThreadStatus } from "../protocol";
import { t } from "../i18n";

export function clock(time: string | null | undefined): string {
  const t = ms(time);
  if (!t) return "";
  const d = new Date(t);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  return d.toLocaleDateString([], { month: "short", day: "numeric" });
}

export function dateTime(time: string | null | undefined): string {
  const t = ms(time);
  return t
    ? new Date(t).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })
    : "Unknown";
}

// The catalogue's keys are the statuses themselves.
export const STATUS_TEXT = Object.fromEntries(
  (["unassigned", "active", "closed", "expired"] as const).map((s) => [s, t(s)]),
) as Record<ThreadStatus, string>;

/** An http(s) URL a visitor reported, safe to link to; null for anything else. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}
