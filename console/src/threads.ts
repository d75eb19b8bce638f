// Every thread the console knows, and the four lists of a space built from them.
//
// A list is not a copy of what REST answered: it is every known thread of the space that
// matches the list's rule, newest activity first. REST pages and live frames both feed the one
// map, so a claim seen live moves the thread from "queue" to "mine" at once. While a list has
// more pages, threads older than the last one loaded stay out of it (the next page brings them
// in order), so "Load more" never skips or repeats.
//
// Which copy of a thread wins: every change to a thread's state moves its last_activity_at at
// least a millisecond forward and a message never moves it back (`touch`, chat/streams/lua.py),
// so the later time is the later state. At the same millisecond (a REST copy and a live one of
// the same state, or a message's time), the further status wins (closed > active > unassigned),
// then the live frame.

import { isOpen, ms, type Thread, type ThreadStatus } from "./protocol";
import { t } from "./i18n";

export type ListName = "queue" | "mine" | "active" | "closed";
export const LISTS: readonly ListName[] = ["queue", "mine", "active", "closed"];

export const LIST_LABELS: Record<ListName, string> = {
  queue: t("queue"),
  mine: t("mine"),
  active: t("allActive"),
  closed: t("closed"),
};

/** The query string of GET /spaces/{id}/threads for each list. */
export const LIST_QUERY: Record<ListName, string> = {
  queue: "status=unassigned",
  mine: "status=active&assigned=me",
  active: "status=active",
  closed: "status=closed,expired",
};

export const PAGE_SIZE = 50;

export function inList(list: ListName, t: Thread, me: string): boolean {
  switch (list) {
    case "queue":
      return t.status === "unassigned";
    case "mine":
      return t.status === "active" && t.assigned_agent_id === me;
    case "active":
      return t.status === "active";
    case "closed":
      return !isOpen(t.status);
  }
}

const STATUS_RANK: Record<ThreadStatus, number> = {
  unassigned: 0,
  active: 1,
  closed: 2,
  expired: 2,
};

/** Newest activity first, then id descending: the server's order (chat/db/history.py). */
export function byActivity(a: Thread, b: Thread): number {
  return (
    ms(b.last_activity_at) - ms(a.last_activity_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

/** The queue's order: the longest waiting first (oldest created), then id ascending. */
export function byWaiting(a: Thread, b: Thread): number {
  return ms(a.created_at) - ms(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** How long a visitor has waited since `since`, as shown in the queue ("3 min", "1 h 5 min"). */
export function waitingFor(since: string, now: number): string {
  const minutes = Math.max(0, Math.floor((now - ms(since)) / 60_000));
  if (minutes < 1) return "under 1 min";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** True when `incoming` is a later state of the thread than `known`. */
export function isNewer(incoming: Thread, known: Thread, live: boolean): boolean {
  const d = ms(incoming.last_activity_at) - ms(known.last_activity_at);
  if (d !== 0) return d > 0;
  const r = STATUS_RANK[incoming.status] - STATUS_RANK[known.status];
  if (r !== 0) return r > 0;
  return live;
}

export interface ListWindow {
  loaded: boolean;
  loading: boolean;
  /** next_cursor of the last page loaded; null when there is nothing more. */
  next: string | null;
  /** The last thread of the loaded pages while more remain: older ones are not shown. */
  floor: Thread | null;
  error: string;
}

export class ThreadStore {
  readonly byId = new Map<string, Thread>();
  private readonly windows = new Map<string, ListWindow>();

  get(id: string): Thread | undefined {
    return this.byId.get(id);
  }

  /** Merge a copy of a thread; true when it changed what is known. */
  upsert(t: Thread, live: boolean): boolean {
    const known = this.byId.get(t.id);
    if (known && !isNewer(t, known, live)) {
      if (t.visitor && !known.visitor) this.byId.set(t.id, { ...known, visitor: t.visitor });
      return false;
    }
    // The bot a conversation had first never changes, and only the log's copies name it
    // (README "Bots"): a REST copy, from PostgreSQL, does not forget it.
    const bot = t.bot_agent_id ?? known?.bot_agent_id;
    this.byId.set(t.id, {
      ...t,
      visitor: t.visitor ?? known?.visitor,
      ...(bot ? { bot_agent_id: bot } : {}),
    });
    return true;
  }

  /** An admin soft-deleted the thread: it leaves every list. */
  remove(id: string): void {
    this.byId.delete(id);
  }

  /** A message moved the thread's activity time (the frame carries no thread). */
  touch(threadId: string, at: string): void {
    const known = this.byId.get(threadId);
    if (known && ms(at) > ms(known.last_activity_at)) {
      this.byId.set(threadId, { ...known, last_activity_at: at });
    }
  }

  window(spaceId: string, list: ListName): ListWindow {
    const key = `${spaceId}|${list}`;
    let w = this.windows.get(key);
    if (!w) {
      w = { loaded: false, loading: false, next: null, floor: null, error: "" };
      this.windows.set(key, w);
    }
    return w;
  }

  /** A page of a list arrived. */
  applyPage(spaceId: string, list: ListName, items: Thread[], next: string | null): void {
    for (const t of items) this.upsert(t, false);
    const w = this.window(spaceId, list);
    w.loaded = true;
    w.error = "";
    w.next = next;
    // The page's own copy: the cursor is where the server stopped, whatever happened since.
    const last = items.at(-1);
    w.floor = next && last ? last : null;
  }

  /** The threads of a list, as shown. */
  list(spaceId: string, list: ListName, me: string): Thread[] {
    const w = this.window(spaceId, list);
    const floor = w.next ? w.floor : null;
    const out: Thread[] = [];
    for (const t of this.byId.values()) {
      if (t.space_id !== spaceId || !inList(list, t, me)) continue;
      if (floor && byActivity(t, floor) > 0) continue; // older than the loaded pages
      out.push(t);
    }
    return out.sort(list === "queue" ? byWaiting : byActivity);
  }

  /** A subscribe snapshot brought every open thread of the space: its open lists are whole
   * (no REST page is needed for them, and none is older than what is shown). */
  openListsComplete(spaceId: string): void {
    for (const list of LISTS) {
      if (list === "closed") continue;
      const w = this.window(spaceId, list);
      w.loaded = true;
      w.next = null;
      w.floor = null;
      w.error = "";
    }
  }

  /** Start a space's lists over (its cursor expired: events were missed). */
  resetSpace(spaceId: string): void {
    for (const list of LISTS) this.windows.delete(`${spaceId}|${list}`);
  }

  forgetSpace(spaceId: string): void {
    this.resetSpace(spaceId);
    for (const [id, t] of this.byId) if (t.space_id === spaceId) this.byId.delete(id);
  }

  clear(): void {
    this.byId.clear();
    this.windows.clear();
  }
}
