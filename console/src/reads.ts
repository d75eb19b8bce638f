// Reading over REST what the live feed does not bring: the lists of a space (after its feed is
// live, so no event falls between the two), a thread heard of for the first time, a thread's
// history page by page, and the rows' previews (a few requests at a time).

import { errorText } from "./api";
import type { Console } from "./console";
import type { MessagePage, Thread } from "./protocol";
import { TaskQueue } from "./tasks";
import { LIST_QUERY, LISTS, type ListName, PAGE_SIZE } from "./threads";

export class Reads {
  private readonly previews = new TaskQueue(2);
  private readonly fetching = new Set<string>();

  constructor(private readonly c: Console) {}

  clear(): void {
    this.previews.clear();
    this.fetching.clear();
  }

  /** Load the space's lists once its feed is live (no event falls between), or now if offline. */
  ensureLists(spaceId: string, offline: boolean): void {
    if (!offline && !this.c.subscribedOnce.has(spaceId) && this.c.status !== "offline") return;
    for (const list of LISTS) {
      const w = this.c.threads.window(spaceId, list);
      if (!w.loaded && !w.loading) void this.loadList(spaceId, list, false);
    }
  }

  async loadList(spaceId: string, list: ListName, more: boolean): Promise<void> {
    const w = this.c.threads.window(spaceId, list);
    if (w.loading || (more && !w.next)) return;
    w.loading = true;
    this.c.changed();
    const base = `/spaces/${encodeURIComponent(spaceId)}/threads`;
    let path = `${base}?${LIST_QUERY[list]}&limit=${PAGE_SIZE}`;
    if (more && w.next) path += `&cursor=${encodeURIComponent(w.next)}`;
    try {
      const page = await this.c.auth.api<{ items: Thread[]; next_cursor: string | null }>(
        "GET",
        path,
      );
      for (const t of page.items) this.c.notes.seed(t.id, t.tag_ids);
      this.c.threads.applyPage(spaceId, list, page.items, page.next_cursor);
      this.c.seedUnread(page.items);
    } catch (err) {
      w.error = errorText(err);
    } finally {
      w.loading = false;
      this.c.changed();
    }
  }

  /** A thread the console has not seen (a message for it arrived): read it. */
  ensureThread(id: string): void {
    if (this.c.threads.get(id) || this.fetching.has(id)) return;
    this.fetching.add(id);
    void this.c.auth
      .api<Thread>("GET", `/threads/${encodeURIComponent(id)}`)
      .then((t) => {
        if (t.visitor) this.c.visitors.seed(t.visitor);
        this.c.threads.upsert(t, false);
        this.c.changed();
      })
      .catch(() => {})
      .finally(() => this.fetching.delete(id));
  }

  /** A row wants its last message as a preview and its visitor's name (asked once each). */
  want(t: Thread): void {
    this.c.visitors.want(t);
    if (this.c.logs.get(t.id)?.last()) return;
    this.previews.once(t.id, async () => {
      const page = await this.c.auth.api<MessagePage>(
        "GET",
        `/threads/${encodeURIComponent(t.id)}/messages?limit=1`,
      );
      const log = this.c.logOf(t.id);
      for (const m of page.items) log.receive(m);
      this.c.changed();
    });
  }

  async loadHistory(threadId: string, older: boolean): Promise<void> {
    const log = this.c.logOf(threadId);
    if (log.loading || (older && !log.before)) return;
    log.loading = true;
    log.error = "";
    this.c.changed();
    let path = `/threads/${encodeURIComponent(threadId)}/messages?limit=50`;
    if (older && log.before) path += `&before=${encodeURIComponent(log.before)}`;
    try {
      log.history(await this.c.auth.api<MessagePage>("GET", path), older);
    } catch (err) {
      log.error = errorText(err);
    } finally {
      log.loading = false;
      this.c.changed();
    }
  }
}
