// The team line of the header, as plain functions (unit-tested without a DOM): who is shown,
// their initials and colour, and the reply-time sentence (structures.md "Appearance").

import { language, t } from "../i18n";

export interface Face {
  name: string;
  /** An absolute URL on the chat service, or "" for initials. */
  avatar: string;
}

export type ReplyTime = "minutes" | "hour" | "day";

export interface TeamView {
  faces: Face[];
  /** How many more agents the team has. */
  others: number;
  reply: ReplyTime | null;
}

const REPLY = { minutes: "replyMinutes", hour: "replyHour", day: "replyDay" } as const;

export const replyLine = (reply: ReplyTime | null): string => (reply ? t(REPLY[reply]) : "");

/** "Ana", "Ana and Li", "Ana, Li, and Cy", "Ana, Li, and 2 others", in the visitor's language (the
 * list's commas and "and" from Intl.ListFormat). */
export function names(faces: Face[], others: number): string {
  const all = faces.map((f) => f.name);
  if (others > 0) all.push(t("others", { n: others }));
  return new Intl.ListFormat(language(), { style: "long", type: "conjunction" }).format(all);
}

/** Up to two letters: the first of the first and last words. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/);
  const first = [...(words[0] ?? "")][0] ?? "";
  const last = words.length > 1 ? ([...words[words.length - 1]][0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** A stable colour per name, dark enough for white letters. */
export function hue(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + (c.codePointAt(0) ?? 0)) % 360;
  return `hsl(${h},45%,40%)`;
}

/** The config's `team` and `reply_time`, checked (the config is another program's JSON); avatar
 * URLs resolve against the chat service and must stay on it. */
export function readTeam(team: unknown, reply: unknown, service: string): TeamView {
  const t = (team ?? {}) as { members?: unknown; others?: unknown };
  const faces: Face[] = [];
  for (const m of Array.isArray(t.members) ? t.members.slice(0, 3) : []) {
    if (!m || typeof m.name !== "string" || !m.name) continue;
    let avatar = "";
    try {
      const url = new URL(m.avatar_url, service);
      if (typeof m.avatar_url === "string" && url.origin === service) avatar = url.href;
    } catch {
      // not a URL: initials
    }
    faces.push({ name: m.name, avatar });
  }
  const others = typeof t.others === "number" && t.others > 0 ? Math.floor(t.others) : 0;
  const known = reply === "minutes" || reply === "hour" || reply === "day";
  return { faces, others: faces.length ? others : 0, reply: known ? (reply as ReplyTime) : null };
}
