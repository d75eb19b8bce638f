// What the console knows about visitors: names for the thread rows, and the visitor panel's
// detail (GET /visitors/{id}: the visitor and their threads, newest first). Thread lists carry
// no visitor, so rows ask for their visitor in the background (a few at a time). Where
// /visitors/{id} answers 404 (not projected yet, or a server without that route), the thread's
// own GET /threads/{id} still names the visitor, and the panel says earlier threads are unknown.

import { ApiError, errorText } from "./api";
import type { Thread, Visitor, VisitorChange, VisitorContext, VisitorDetail } from "./protocol";
import { TaskQueue } from "./tasks";

export interface Detail {
  state: "loading" | "ok" | "partial" | "error";
  threads: Thread[];
  error: string;
  context?: VisitorContext;
}

// The panel asks again this often, this many times, while /visitors/{id} answers 404.
const PANEL_RETRIES = 2;
const PANEL_RETRY_MS = 1500;

type Api = <T>(method: string, path: string) => Promise<T>;

export function visitorLabel(v: Visitor | undefined, visitorId: string): string {
  return v?.name || v?.email || `Visitor ${visitorId.slice(0, 6)}`;
}

export class Visitors {
  readonly byId = new Map<string, Visitor>();
  readonly details = new Map<string, Detail>();
  private readonly queue = new TaskQueue(4);

  constructor(
    private readonly api: Api,
    private readonly changed: () => void,
  ) {}

  /** Merge what a frame or an answer says about a visitor. */
  seed(v: Visitor): void {
    const known = this.byId.get(v.id);
    this.byId.set(v.id, { ...known, ...v, space_id: v.space_id ?? known?.space_id });
  }

  /** visitor.updated: only the fields that changed. */
  update(change: VisitorChange): void {
    const known = this.byId.get(change.visitor_id) ?? {
      id: change.visitor_id,
      name: null,
      email: null,
      current_url: null,
    };
    this.byId.set(change.visitor_id, {
      ...known,
      name: change.name ?? known.name,
      email: change.email ?? known.email,
      current_url: change.current_url ?? known.current_url,
      external_id: change.external_id ?? known.external_id,
    });
  }

  get(id: string): Visitor | undefined {
    return this.byId.get(id);
  }

  /** A row needs its visitor's name: ask once, in the background. */
  want(thread: Thread): void {
    if (this.byId.has(thread.visitor_id)) return;
    this.queue.once(thread.visitor_id, () => this.load(thread.visitor_id, thread.id));
  }

  /** The panel opened: read the visitor and their threads now (fresh every time). */
  open(visitorId: string, threadId: string): void {
    const known = this.details.get(visitorId);
    this.details.set(visitorId, {
      state: "loading",
      threads: known?.threads ?? [],
      error: "",
    });
    this.changed();
    void this.load(visitorId, threadId, PANEL_RETRIES);
  }

  clear(): void {
    this.byId.clear();
    this.details.clear();
    this.queue.clear();
  }

  private async load(visitorId: string, threadId: string, retries = 0): Promise<void> {
    try {
      const d = await this.api<VisitorDetail>("GET", `/visitors/${encodeURIComponent(visitorId)}`);
      this.seed(d.visitor);
      this.details.set(visitorId, {
        state: "ok",
        threads: d.threads,
        error: "",
        context: d.context,
      });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) {
        this.queue.forget(visitorId);
        const known = this.details.get(visitorId);
        if (known) this.details.set(visitorId, { ...known, state: "error", error: errorText(err) });
        this.changed();
        return;
      }
      await this.fallback(visitorId, threadId, retries > 0);
      // A visitor seen a moment ago may not be projected yet: ask again shortly.
      if (retries > 0) {
        setTimeout(() => void this.load(visitorId, threadId, retries - 1), PANEL_RETRY_MS);
      }
    }
    this.changed();
  }

  private async fallback(visitorId: string, threadId: string, again: boolean): Promise<void> {
    try {
      const t = await this.api<Thread>("GET", `/threads/${encodeURIComponent(threadId)}`);
      if (t.visitor) this.seed(t.visitor);
      this.details.set(visitorId, { state: again ? "loading" : "partial", threads: [], error: "" });
    } catch (err) {
      this.details.set(visitorId, { state: "error", threads: [], error: errorText(err) });
    }
  }
}
