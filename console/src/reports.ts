// The conversation reports (GET /api/v1/reports/conversations; README "Reports"): the reply's
// shape, the query a form makes, durations as people read them, and the CSV download. The page
// is ui/ReportsPage.tsx.

import { API_PREFIX, ApiError } from "./api";
import type { Console } from "./console";

export interface Figures {
  opened: number;
  answered: number;
  missed: number;
  first_response_median_seconds: number | null;
  first_response_p90_seconds: number | null;
  visitor_messages: number;
  agent_messages: number;
  closed: number;
  expired: number;
  resolution_median_seconds: number | null;
  resolution_p90_seconds: number | null;
  messages_per_conversation: number | null;
  rated_good: number;
  rated_bad: number;
  share_good: number | null;
}

export interface Period extends Figures {
  start: string;
}

export interface BreakdownRow extends Figures {
  key: string | null;
  name: string | null;
}

export type Interval = "day" | "week";
export type Dimension = "space" | "group" | "agent";

export interface Report {
  from: string;
  to: string;
  interval: Interval;
  time_zone: string;
  agent_id: string | null;
  by: Dimension | null;
  total: Figures;
  periods: Period[];
  breakdown: BreakdownRow[];
}

export interface ReportForm {
  from: string;
  to: string;
  interval: Interval;
  spaceId: string;
  groupId: string;
  agentId: string;
  by: Dimension | "";
}

/** The last 30 days up to today (the browser's date; the server cuts days in the org's zone). */
export function defaultForm(now: Date = new Date()): ReportForm {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = (d: Date) => `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  const from = new Date(now.getTime() - 29 * 86_400_000);
  const none = { spaceId: "", groupId: "", agentId: "", by: "" } as const;
  return { from: day(from), to: day(now), interval: "day", ...none };
}

export function reportQuery(f: ReportForm): string {
  const q = new URLSearchParams({ from: f.from, to: f.to, interval: f.interval });
  if (f.spaceId) q.set("space_id", f.spaceId);
  if (f.groupId) q.set("group_id", f.groupId);
  if (f.agentId) q.set("agent_id", f.agentId);
  if (f.by) q.set("by", f.by);
  return q.toString();
}

/** "45 s", "3 min 5 s", "2 h 10 min", "1 d 4 h"; "–" when nothing was measured. */
export function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ""}`;
  }
  const h = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${h ? ` ${h} h` : ""}`;
}

/** The server's CSV of the same report, saved by the browser. Fetched with the token (a plain
 * link would carry none), after refreshing it if it is about to expire. */
export async function downloadCsv(c: Console, query: string, name: string): Promise<void> {
  await c.auth.fresh();
  const res = await fetch(`${API_PREFIX}/reports/conversations?${query}&format=csv`, {
    headers: { Authorization: `Bearer ${c.auth.token() ?? ""}` },
    cache: "no-store",
    credentials: "omit",
  });
  if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
