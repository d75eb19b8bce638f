// The console's state and what the agent does with it. One mutable model; every change calls
// changed(), which re-renders the whole tree once per microtask (ui/ components are functions
// of this model plus a little local form state). Live frames are applied in live.ts.

import { ApiError, errorText } from "./api";
import { Attention, titleFor } from "./attention";
import { Auth } from "./auth";
import { CannedStore } from "./canned";
import { NotesStore } from "./notes";
import { RatingsStore } from "./ratings";
import { Colleagues } from "./colleagues";
import { type Connection, createConnection, type Status } from "./connection";
import { Cursors } from "./cursors";
import { onFrame } from "./live";
import { MessageLog } from "./messages";
import type { Agent, Floor, Group, Handover, Space, Thread } from "./protocol";
import { isBot } from "./protocol";
import { Outbox } from "./outbox";
import { LatestRead } from "./latest";
import { Reads } from "./reads";
import { type ListName, ThreadStore } from "./threads";
import { Visitors } from "./visitors";

export type View =
  | "inbox"
  | "agents"
  | "spaces"
  | "groups"
  | "canned"
  | "deleted"
  | "tags"
  | "api-keys"
  | "security"
  | "webhooks"
  | "reports"
  | "floor"
  | "bot";
// Pages every agent may open; the others are admins' (their REST routes refuse others).
// Reports too: an agent's report holds their own conversations only (the server decides).
const EVERYONES_VIEWS: readonly View[] = ["inbox", "canned", "security", "reports"];
/** Whether an agent of `role` may open `view`: the floor is supervisors' and admins'. */
const mayOpen = (view: View, role: string) =>
  role === "admin" || EVERYONES_VIEWS.includes(view) || (view === "floor" && role === "supervisor");

/** A sign-in whose password was right and that owes a second factor: a code (`challenge`) or,
 * where the organization requires one the agent lacks, an enrolment (`enrol`). */
export interface PendingSignIn {
  kind: "challenge" | "enrol";
  token: string;
}

export function pendingSignIn(err: unknown): PendingSignIn | null {
  if (!(err instanceof ApiError)) return null;
  const details = (err.details ?? {}) as { challenge_token?: unknown; enrolment_token?: unknown };
  if (err.code === "two_factor_code_required" && typeof details.challenge_token === "string")
    return { kind: "challenge", token: details.challenge_token };
  if (err.code === "two_factor_required" && typeof details.enrolment_token === "string")
    return { kind: "enrol", token: details.enrolment_token };
  return null;
}

const SPACE_KEY = "chat-console:space";
// Someone else's typing indicator goes away by itself after this long without a frame.
export const TYPING_SHOWN_MS = 6000;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

// The queue shows how long each visitor has waited (in minutes): redrawn this often.
const WAITING_REFRESH_MS = 30_000;

export class Console {
  readonly auth: Auth;
  readonly conn: Connection;
  readonly attention: Attention;
  readonly cursors = new Cursors();
  readonly threads = new ThreadStore();
  readonly logs = new Map<string, MessageLog>();
  readonly visitors: Visitors;
  readonly canned: CannedStore;
  /** Private notes and tags (notes.ts); `tagFilter`: the list shows only that tag's. */
  readonly notes: NotesStore;
  /** Visitors' ratings of their conversations (ratings.ts). */
  readonly ratings: RatingsStore;
  tagFilter = "";
  readonly reads: Reads = new Reads(this);
  readonly outbox: Outbox = new Outbox(this);
  /** Other agents viewing or typing in each conversation. */
  readonly colleagues = new Colleagues();

  me: Agent | null = null;
  status: Status = "offline";
  signInError = "";
  pending: PendingSignIn | null = null;
  notice = "";
  view: View = "inbox";
  /** The live floor's latest frame, while the Floor page watches it (ui/FloorPage.tsx). */
  floor: Floor | null = null;
  spaces: Space[] = [];
  spaceId: string | null = null;
  list: ListName = "queue";
  openId: string | null = null;
  /** The keyboard's place in the list (j/k), opened with Enter. */
  focusId: string | null = null;
  agents = new Map<string, Agent>();
  /** The organization's groups, loaded by the admin pages that show them. */
  groups: Group[] = [];
  /** Why the agents list could not be loaded ("" when it was): the agents page says so, the
   * rest of the console goes on (e.g. 503 `unavailable` while PostgreSQL is down). */
  agentsError = "";
  readonly unread = new Map<string, number>();
  /** thread id -> how far its visitor has seen it (structures.md "Read state"). */
  readonly visitorRead = new Map<string, string>();
  /** thread id -> who is typing there, until when (Date.now()). */
  readonly typing = new Map<string, { who: string; until: number; draft?: string }>();
  readonly threadErrors = new Map<string, string>();
  readonly drafts = new Map<string, string>();
  /** `${threadId}:${action}` of claims, closes and transfers in flight. */
  readonly busy = new Set<string>();
  showShortcuts = false;
  acceptingError = "";
  /** Spaces whose feed has said `subscribed` on some socket of this sign-in. */
  readonly subscribedOnce = new Set<string>();
  /** Threads assigned to someone else where the agent confirmed replying anyway. */
  readonly steppedIn = new Set<string>();
  /** thread id -> its bot's handover as the live frame told it (README "Bots"): a line in the
   * conversation's timeline. Not in REST: a conversation read later shows it without the why. */
  readonly handovers = new Map<string, Handover>();

  private listeners = new Set<() => void>();
  private queued = false;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private waitingShownAt = 0;
  /** The thread the server was last told this console views (undefined: not told yet). */
  private viewingSent: string | null | undefined;

  constructor() {
    const store = storage();
    this.auth = new Auth(
      {
        storage: store,
        fetch: (input, init) => fetch(input, init),
        now: () => Date.now(),
        locks: typeof navigator !== "undefined" ? navigator.locks : undefined,
      },
      {
        ended: (reason) => this.ended(reason),
        adopted: (agentChanged) => {
          const session = this.auth.session;
          if (!this.me && session) {
            this.me = session.agent; // signed in in another tab: follow it
            this.start();
            this.changed();
          } else if (agentChanged) {
            location.reload(); // another agent now: nothing of this one's state applies
          }
        },
      },
    );
    this.conn = createConnection({
      prepare: () => this.auth.fresh(),
      url: () => {
        const token = this.auth.token();
        if (!token) return null;
        const scheme = location.protocol === "https:" ? "wss:" : "ws:";
        return `${scheme}//${location.host}/ws/agent?token=${encodeURIComponent(token)}`;
      },
      frame: (frame) => {
        onFrame(this, frame);
        this.changed();
      },
      status: (status) => this.setStatus(status),
      refresh: () => this.auth.refresh(),
    });
    this.attention = new Attention(store);
    this.visitors = new Visitors(
      (method, path) => this.auth.api(method, path),
      () => this.changed(),
    );
    this.canned = new CannedStore(
      (method, path) => this.auth.api(method, path),
      () => this.changed(),
    );
    this.notes = new NotesStore(
      (method, path, body) => this.auth.api(method, path, body),
      () => this.changed(),
    );
    this.ratings = new RatingsStore(
      (method, path) => this.auth.api(method, path),
      () => this.changed(),
    );
  }

  // --- rendering ----------------------------------------------------------------------------

  subscribe(listener: () => void): void {
    this.listeners.add(listener);
  }

  changed(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      document.title = titleFor(this.totalUnread());
      for (const listener of this.listeners) listener();
    });
  }

  // --- session ------------------------------------------------------------------------------

  boot(): void {
    this.view = viewFromHash();
    if (this.auth.restore() && this.auth.session) {
      this.me = this.auth.session.agent;
      this.start();
    }
    this.changed();
  }

  async signIn(email: string, password: string): Promise<void> {
    this.signInError = "";
    this.pending = null;
    this.changed();
    try {
      this.me = await this.auth.signIn(email, password);
    } catch (err) {
      // A right password that owes a second factor: the sign-in page asks for it.
      this.pending = pendingSignIn(err);
      if (this.pending) this.signInError = "";
      else if (err instanceof ApiError && err.code === "invalid_credentials")
        this.signInError = "Wrong email or password.";
      else this.signInError = errorText(err);
      this.changed();
      return;
    }
    this.start();
    this.changed();
  }

  /** The sign-in finished with its second factor (or an enrolment): the console starts. */
  signedIn(agent: Agent): void {
    this.pending = null;
    this.me = agent;
    this.start();
    this.changed();
  }

  /** Back to the email and password (a pending sign-in abandoned or expired). */
  cancelPending(reason = ""): void {
    this.pending = null;
    this.signInError = reason;
    this.changed();
  }

  async signOut(): Promise<void> {
    this.conn.stop();
    this.reset();
    this.changed();
    await this.auth.signOut();
  }

  private ended(reason: string): void {
    this.conn.stop();
    this.reset();
    this.signInError = reason;
    this.changed();
  }

  private start(): void {
    this.signInError = "";
    this.conn.start();
    clearInterval(this.sweeper);
    this.sweeper = setInterval(() => this.sweep(), 1000);
    void this.loadSpaces();
    void this.loadAgents();
    void this.loadMe();
    void this.canned.load(); // once per sign-in; the canned page reloads it after an edit
    void this.notes.loadTags();
  }

  private reset(): void {
    clearInterval(this.sweeper);
    this.me = null;
    this.setSpaces([]);
    this.spaceId = null;
    this.openId = null;
    this.focusId = null;
    this.notice = "";
    this.acceptingError = "";
    this.showShortcuts = false;
    this.agents = new Map();
    this.setGroups([]); // a read from before the sign-out is not this sign-in's
    this.agentsError = "";
    this.cursors.clear();
    this.threads.clear();
    this.logs.clear();
    this.visitors.clear();
    this.canned.clear();
    this.notes.clear();
    this.ratings.clear();
    this.tagFilter = "";
    this.reads.clear();
    this.outbox.clear();
    this.unread.clear();
    this.typing.clear();
    this.threadErrors.clear();
    this.drafts.clear();
    this.busy.clear();
    this.subscribedOnce.clear();
    this.colleagues.clear();
    this.steppedIn.clear();
    this.handovers.clear();
    this.viewingSent = undefined;
  }

  private setStatus(status: Status): void {
    this.status = status;
    // Without a socket the lists still come from REST (they would wait for `subscribed`).
    if (status === "offline" && this.spaceId) this.reads.ensureLists(this.spaceId, true);
    this.changed();
  }

  /** Once a second: expire typing indicators, fail own messages that were never acked. */
  private sweep(): void {
    const now = Date.now();
    let dirty = false;
    for (const [id, t] of this.typing) {
      if (t.until <= now) {
        this.typing.delete(id);
        dirty = true;
      }
    }
    if (this.colleagues.sweep(now)) dirty = true;
    if (this.outbox.expire(now)) dirty = true;
    if (now - this.waitingShownAt >= WAITING_REFRESH_MS) {
      this.waitingShownAt = now; // the queue's waiting times move on
      dirty = true;
    }
    if (dirty) this.changed();
  }

  // --- loading ------------------------------------------------------------------------------

  async loadMe(): Promise<void> {
    try {
      this.setMe(await this.auth.api<Agent>("GET", "/auth/me"));
    } catch {
      // the stored copy will do; the welcome frame brings a fresh one
    }
  }

  setMe(agent: Agent): void {
    this.me = agent;
    this.auth.setAgent(agent);
    const known = this.agents.get(agent.id);
    if (known) this.agents.set(agent.id, { ...agent, is_online: known.is_online });
    if (!mayOpen(this.view, agent.role)) this.setView("inbox");
    this.changed();
  }

  async loadSpaces(): Promise<void> {
    const current = this.spacesRead.start();
    try {
      const page = await this.auth.api<{ items: Space[] }>("GET", "/spaces");
      if (!current()) return; // overtaken (LatestRead)
      this.spaces = page.items;
      this.notice = "";
    } catch (err) {
      if (!this.me) return;
      this.notice = `Could not load the spaces: ${errorText(err)}`;
    }
    this.pickSpace();
    this.changed();
  }

  /** Keep the chosen space if it still exists, else the remembered one, else the first. */
  pickSpace(): void {
    const ids = this.spaces.map((s) => s.id);
    if (this.spaceId && ids.includes(this.spaceId)) return;
    let remembered: string | null = null;
    try {
      remembered = localStorage.getItem(SPACE_KEY);
    } catch {
      remembered = null;
    }
    const id = remembered && ids.includes(remembered) ? remembered : (ids[0] ?? null);
    if (id) this.selectSpace(id);
    else this.spaceId = null;
  }

  /** GET /agents, one request at a time: the sign-in and the socket's welcome both ask within
   * milliseconds of each other, and each console open counts against the API budget. */
  loadAgents(): Promise<void> {
    this.agentsLoading ??= this.readAgents().finally(() => {
      this.agentsLoading = null;
    });
    return this.agentsLoading;
  }

  private agentsLoading: Promise<void> | null = null;

  private async readAgents(): Promise<void> {
    try {
      const page = await this.auth.api<{ items: Agent[] }>("GET", "/agents");
      this.agents = new Map(page.items.map((a) => [a.id, a]));
      const me = this.me && this.agents.get(this.me.id);
      if (me) this.me = { ...this.me, ...me };
      this.agentsError = "";
    } catch (err) {
      // transfer targets and presence wait for the next try (welcome, presence of a stranger)
      this.agentsError = errorText(err);
    }
    this.changed();
  }

  /** GET /groups; on failure the list stays as it was and the error is the caller's to show.
   * A read overtaken by a later one or by setGroups is dropped (LatestRead). */
  async loadGroups(): Promise<void> {
    const current = this.groupsRead.start();
    const page = await this.auth.api<{ items: Group[] }>("GET", "/groups");
    if (!current()) return;
    this.groups = page.items;
    this.changed();
  }

  /** The list after a change this console made: reads already out are older than it. */
  setGroups(groups: Group[]): void {
    this.groupsRead.overtake();
    this.groups = groups;
  }

  /** The list after a change made here or told by the socket (a space deleted). */
  setSpaces(spaces: Space[]): void {
    this.spacesRead.overtake();
    this.spaces = spaces;
  }

  private readonly groupsRead = new LatestRead();
  private readonly spacesRead = new LatestRead();

  selectSpace(id: string): void {
    this.spaceId = id;
    this.focusId = null;
    try {
      localStorage.setItem(SPACE_KEY, id);
    } catch {
      // not remembered across reloads
    }
    this.reads.ensureLists(id, false);
    this.changed();
  }

  logOf(threadId: string): MessageLog {
    let log = this.logs.get(threadId);
    if (!log) {
      log = new MessageLog(threadId);
      this.logs.set(threadId, log);
    }
    return log;
  }

  // --- navigation ---------------------------------------------------------------------------

  setView(wanted: View): void {
    const view = this.me && !mayOpen(wanted, this.me.role) ? "inbox" : wanted;
    this.view = view;
    const hash = view === "inbox" ? "#/inbox" : `#/${view}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    this.announceViewing();
    this.changed();
  }

  setList(list: ListName): void {
    this.list = list;
    this.focusId = null;
    this.changed();
  }

  /** Conversations this agent holds now, in the spaces it follows (its load). */
  myLoad(): number {
    const me = this.me;
    if (!me) return 0;
    let n = 0;
    for (const spaceId of this.spaces.map((s) => s.id)) {
      n += this.threads.list(spaceId, "mine", me.id).filter((t) => t.status === "active").length;
    }
    return n;
  }

  /** The threads of the current list, as shown. */
  visible(): Thread[] {
    if (!this.spaceId || !this.me) return [];
    return this.threads.list(this.spaceId, this.list, this.me.id);
  }

  openThread(id: string): void {
    if (this.openId && this.openId !== id) this.outbox.stopTyping(this.openId);
    this.openId = id;
    this.focusId = id;
    this.view = "inbox";
    this.unread.delete(id);
    this.markRead(id);
    void this.auth
      .api<{ visitor_read_id: string | null }>("GET", `/threads/${encodeURIComponent(id)}/read`)
      .then((r) => {
        if (r.visitor_read_id) this.visitorRead.set(id, r.visitor_read_id);
        this.changed();
      })
      .catch(() => undefined);
    this.threadErrors.delete(id);
    this.announceViewing();
    const log = this.logOf(id);
    if (log.before === undefined || log.stale) void this.reads.loadHistory(id, false);
    const t = this.threads.get(id);
    if (t) this.visitors.open(t.visitor_id, id);
    else
      void this.auth
        .api<Thread>("GET", `/threads/${encodeURIComponent(id)}`)
        .then((found) => {
          if (found.visitor) this.visitors.seed(found.visitor);
          this.threads.upsert(found, false);
          if (this.openId === id) this.visitors.open(found.visitor_id, id);
          this.changed();
        })
        .catch((err: unknown) => {
          this.threadErrors.set(id, errorText(err));
          this.changed();
        });
    this.changed();
  }

  closeThreadView(): void {
    if (this.openId) this.outbox.stopTyping(this.openId);
    this.openId = null;
    this.announceViewing();
    this.changed();
  }

  /** Tell the server which conversation is open here, when that changed (`fresh`: on a new
   * socket, which views nothing yet). Other agents see it; a closed socket clears it. */
  announceViewing(fresh = false): void {
    if (fresh) this.viewingSent = null;
    const id = this.view === "inbox" ? this.openId : null;
    if (id === this.viewingSent) return;
    if (this.conn.send({ type: "viewing", thread_id: id })) this.viewingSent = id;
  }

  /** Unread counts as the server keeps them (a snapshot or a list page): they survive a reload
   * and follow the agent across devices; live frames move them after. */
  seedUnread(threads: Thread[]): void {
    for (const t of threads) {
      if (typeof t.unread !== "number" || this.viewing(t.id)) continue;
      if (t.unread > 0) this.unread.set(t.id, t.unread);
      else this.unread.delete(t.id);
    }
  }

  /** Move this agent's read marker to the thread's end, on the server: it follows the agent
   * to its other tabs and devices and survives a reload (a `read` frame; ack ignored). */
  markRead(threadId: string): void {
    this.conn.send({ type: "read", thread_id: threadId });
  }

  /** The agent is looking at this thread now (so its visitor messages are read). */
  viewing(threadId: string): boolean {
    return (
      this.openId === threadId &&
      this.view === "inbox" &&
      typeof document !== "undefined" &&
      document.visibilityState === "visible"
    );
  }

  spaceUnread(spaceId: string): number {
    let n = 0;
    for (const [id, count] of this.unread) {
      if (this.threads.get(id)?.space_id === spaceId) n += count;
    }
    return n;
  }

  totalUnread(): number {
    let n = 0;
    for (const count of this.unread.values()) n += count;
    return n;
  }

  /** Only a waiting thread can be claimed (a held one answers 409 already_claimed). */
  canClaim(t: Thread): boolean {
    return t.status === "unassigned";
  }

  /** Other agents online now, by name (a bot never is: README "Bots"). */
  onlineAgents(): Agent[] {
    return [...this.agents.values()]
      .filter((a) => a.is_online && a.id !== this.me?.id && !isBot(a))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Transfer targets: everyone else, online ones first; never a bot (the server refuses). */
  transferTargets(): Agent[] {
    return [...this.agents.values()]
      .filter((a) => a.id !== this.me?.id && !isBot(a))
      .sort((a, b) => Number(b.is_online) - Number(a.is_online) || a.name.localeCompare(b.name));
  }

  spaceName(id: string): string {
    return this.spaces.find((s) => s.id === id)?.name ?? "";
  }
}

export function viewFromHash(): View {
  const h = typeof location === "undefined" ? "" : location.hash;
  if (h === "#/agents") return "agents";
  if (h === "#/spaces") return "spaces";
  if (h === "#/groups") return "groups";
  if (h === "#/canned") return "canned";
  if (h === "#/deleted") return "deleted";
  if (h === "#/tags") return "tags";
  if (h === "#/api-keys") return "api-keys";
  if (h === "#/security") return "security";
  if (h === "#/webhooks") return "webhooks";
  if (h === "#/reports") return "reports";
  if (h === "#/floor") return "floor";
  if (h === "#/bot") return "bot";
  return "inbox";
}
