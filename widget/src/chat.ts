// The conversation: one immutable State snapshot for the UI, the frames that change it, and the
// visitor's actions. Knows nothing of the DOM beyond document.hidden.
//
// Delivery: an own message is shown at once (optimistic) with a fresh client_id and state
// "sending"; it is sent on every welcomed socket until acked (the server stores a client_id
// once), so messages written offline go out on reconnect. Dedupe: by id for everything the
// server sends, and by client_id for the visitor's own (acks, history after a reconnect, and
// the echo from another tab). Resume: `last` is the newest id of a message frame or history
// entry (never of an ack: the feed may still owe older messages when an ack arrives).

import type { Files } from "./attachments";
import { fetchConfig } from "./config";
import { type Connection, createConnection, type Status } from "./connection";
import { Emitter } from "./emitter";
import { type Embed, load, save } from "./embed";
import { Language, t } from "./i18n";
import { en } from "./locales/en";
import { fetchChunk } from "./lazy";
import { type Message, Messages, publicMessage } from "./messages";
import { pageReporter, watchNavigation } from "./page";
import {
  type ClientFrame,
  compareIds,
  fitsFrame,
  HISTORY_LIMIT,
  type HoursJson,
  isOpen,
  MAX_CONTENT_CHARS,
  MAX_NAME_CHARS,
  type MessageJson,
  newClientId,
  type ServerFrame,
  type ThreadJson,
  type WidgetConfig,
} from "./protocol";
import { TitleFlasher } from "./title";

export interface State {
  open: boolean;
  /** Config or welcome seen: the widget shows itself only once it is known to work. */
  ready: boolean;
  status: Status;
  stopped: boolean;
  name: string;
  /** The space's greeting; null: the default one, in the widget's language. */
  greeting: string | null;
  /** The language the widget speaks (src/i18n.ts). */
  lang: string;
  color: string;
  online: boolean;
  thread: ThreadJson | null;
  /** The thread was closed or expired: offer a new conversation. */
  ended: boolean;
  messages: Message[];
  unread: number;
  agentTyping: boolean;
  identified: boolean;
  /** The visitor submitted the pre-chat / offline form. */
  thanked: boolean;
  queueFull: boolean;
  /** The conversation's place in the waiting queue (1 is next); null when not waiting. */
  queuePosition: number | null;
  /** The space's recent median wait (s); null when unknown. */
  wait: number | null;
  /** The groups the pre-chat picker offers, and the visitor's pick (structures.md "Routing"). */
  groups: { id: string; name: string }[];
  group: string;
  defaultGroup: string;
  /** Which of the visitor's possible groups have an eligible agent (null: unknown). */
  groupsUp: Record<string, boolean> | null;
  /** Show settings.greeting above the conversation (no history). */
  greet: boolean;
  notice: string;
  /** How far an agent has read the conversation (a message id): "Seen" under the visitor's. */
  seen: string | null;
  /** A file is being uploaded (the paperclip waits). */
  uploading: boolean;
  /** The config's business hours (null: none): outside them is "away", whoever is online
   * (ui/states.ts); the away screen reads its message and return time from them. */
  hours: HoursJson | null;
  /** The visitor's rating of the ended conversation: "" none yet, then sending, done, failed. */
  rating: "" | "sending" | "done" | "failed";
  /** The service can email the transcript (widget config). */
  mailOn: boolean;
  /** The visitor's email when known (welcome, identify): the transcript form's default. */
  email: string;
  /** Appearance (structures.md "Appearance"): the config's team and reply time as sent (read
   * by the lazy header component), the corner, the launcher label. */
  team: WidgetConfig["team"];
  reply: WidgetConfig["reply_time"];
  left: boolean;
  label: string;
}

export interface Identity {
  name?: string;
  email?: string;
  /** Scalars the host page knows of the visitor; unverified, shown to agents (≤ 50 keys). */
  attributes?: Record<string, string | number | boolean | null>;
  /** A JWT the site's backend signed with the space's identity secret: a verified visitor, the
   * same one in every browser the user signs in on (README "Embedding the widget"). */
  token?: string;
}

const TYPING_EVERY_MS = 3000;
const TYPING_IDLE_MS = 2500;
const DRAFT_EVERY_MS = 500;
const DRAFT_CHARS = 500;
const AGENT_TYPING_TIMEOUT_MS = 15_000;
const RESEND_AFTER_MS = 1500;
const MAX_RESENDS = 8;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;

export class Chat {
  state: State = {
    open: false,
    ready: false,
    status: "connecting",
    stopped: false,
    name: "Chat",
    greeting: null,
    lang: "en",
    color: "#2563eb",
    online: false,
    thread: null,
    ended: false,
    messages: [],
    unread: 0,
    agentTyping: false,
    identified: false,
    thanked: false,
    queueFull: false,
    queuePosition: null,
    wait: null,
    groups: [],
    group: "",
    defaultGroup: "",
    groupsUp: null,
    greet: true,
    notice: "",
    seen: null,
    uploading: false,
    hours: null,
    rating: "",
    mailOn: false,
    email: "",
    team: undefined,
    reply: null,
    left: false,
    label: "",
  };
  readonly events = new Emitter();
  private readonly subscribers = new Set<() => void>();
  private readonly conn: Connection;
  private readonly title = new TitleFlasher();
  private readonly reportPage: () => void;
  private readonly sessionKey: string;
  private readonly messages = new Messages();
  /** Made on first use: the window chunk brings the upload and the links (`attachments`). */
  private heldFiles: Files | undefined;
  readonly language: Language;
  /** settings.attachment_max_bytes when the space stores one: larger files are not sent. */
  private maxBytes: number | undefined;
  /** Changes made while handling a frame, applied by the next commit(). */
  private pending: Partial<State> = {};
  /** The `last` the current socket was opened with. */
  private resumedFrom: string | null = null;
  private welcomes = 0;
  private identity: ClientFrame | undefined;
  private typingSentAt = 0;
  /** The space's typing preview: the draft goes to agents, at most every DRAFT_EVERY_MS. */
  private preview = false;
  private draftSentAt = 0;
  private draftTimer: ReturnType<typeof setTimeout> | undefined;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;
  private agentTypingTimer: ReturnType<typeof setTimeout> | undefined;
  private resendTimer: ReturnType<typeof setTimeout> | undefined;
  /** The visitor chose a new conversation: the next one must not reopen the ended one. */
  private fresh = false;
  /** The newest message id reported read on this socket. */
  private readSent: string | null = null;
  private hoursTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly embed: Embed) {
    this.sessionKey = `chat-widget:session:${embed.key}`;
    this.language = new Language(embed.http, (lang) => this.set({ lang }));
    this.conn = createConnection({
      url: () => this.url(),
      frame: (frame) => this.onFrame(frame),
      status: (status) => this.set({ status }),
      stopped: () => this.set({ stopped: true, agentTyping: false }),
      probe: async () => (await fetchConfig(embed, true))[0],
    });
    this.reportPage = pageReporter(
      (frame) => this.conn.send(frame),
      () => this.title.title,
    );
  }

  start(): void {
    watchNavigation(this.reportPage);
    addEventListener("online", () => this.conn.wake());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.conn.wake();
      this.reportRead();
    });
    this.language.choose(); // the browser's language: its catalogue comes with the config
    void fetchConfig(this.embed).then(([verdict, config]) => {
      if (verdict === "gone") this.conn.stop();
      else if (config) this.configure(config);
    });
    this.conn.start();
  }

  subscribe(fn: () => void): void {
    this.subscribers.add(fn);
  }

  private set(patch: Partial<State>): void {
    const unread = this.state.unread;
    this.state = { ...this.state, ...patch };
    for (const fn of this.subscribers) fn();
    this.reportRead();
    if (this.state.unread !== unread) this.events.emit("unread", this.state.unread);
  }

  private url(): string {
    const params = new URLSearchParams({ key: this.embed.key });
    const session = load(this.sessionKey);
    if (session) params.set("session", session);
    const last = this.messages.last;
    if (last) params.set("last", last);
    this.resumedFrom = last;
    return `${this.embed.ws}/ws/widget?${params}`;
  }

  private configure(config: WidgetConfig): void {
    const space = config.space ?? {};
    const settings = space.settings ?? {};
    this.preview = settings.typing_preview === true;
    const max = settings.attachment_max_bytes;
    this.maxBytes = typeof max === "number" && max > 0 ? max : undefined;
    this.language.space = typeof settings.locale === "string" ? settings.locale : "auto";
    this.language.choose();
    this.set({
      ready: true,
      name: typeof space.name === "string" && space.name ? space.name : this.state.name,
      // The default greeting as stored speaks the visitor's language; a space's own as written.
      greeting:
        typeof settings.greeting === "string" && settings.greeting !== en.greeting ? settings.greeting : null,
      color:
        typeof settings.color === "string" && COLOR.test(settings.color)
          ? settings.color
          : this.state.color,
      // The socket's word is newer than the config's.
      online: this.welcomes ? this.state.online : Boolean(config.agents_online),
      groups: Array.isArray(config.groups) ? config.groups : [],
      defaultGroup: typeof settings.default_group_id === "string" ? settings.default_group_id : "",
      hours: config.hours ?? null,
      mailOn: config.transcript_email === true,
      team: config.team,
      reply: config.reply_time,
      left: settings.position === "left",
      label: typeof settings.launcher_label === "string" ? settings.launcher_label : "",
    });
    this.followHours();
  }

  /** Business hours: the window judges them as it draws (ui/states.ts, hours.ts: in the window
   * chunk, not here); this only draws again at the next bound of the open intervals, so an open
   * widget flips to away at closing time and back at opening. */
  private followHours(): void {
    clearTimeout(this.hoursTimer);
    const now = Date.now();
    const next = this.state.hours?.intervals.flat().find((at) => at > now);
    // setTimeout holds at most 2^31-1 ms (24.8 days); the intervals span 8 days.
    if (next) this.hoursTimer = setTimeout(() => (this.commit(), this.followHours()), Math.min(next - now, 2 ** 31 - 1));
  }

  /** The console's appearance editor (README "Appearance"): show `config` (unsaved settings)
   * without any connection; called again on every change. */
  showPreview(config: WidgetConfig): void {
    this.configure(config);
  }

  // --- frames ---------------------------------------------------------------------------

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "welcome":
        return this.onWelcome(frame);
      case "ack": {
        if (frame.ref === "rate") {
          if (frame.client_id === this.state.thread?.id) this.set({ rating: "done" });
          return;
        }
        const own = this.messages.own(frame.client_id);
        if (!own) return;
        if (this.messages.settle(own, frame.id, frame.created_at, frame.thread_id)) {
          this.events.emit("message", publicMessage(own));
        }
        const thread = this.state.thread ?? { id: frame.thread_id, status: "unassigned" };
        this.fresh = false; // the new conversation exists now
        return this.commit({ thread });
      }
      case "message":
        this.add(frame, true);
        return this.commit();
      case "typing":
        clearTimeout(this.agentTypingTimer);
        if (frame.active) {
          this.agentTypingTimer = setTimeout(
            () => this.set({ agentTyping: false }),
            AGENT_TYPING_TIMEOUT_MS,
          );
        }
        return this.set({ agentTyping: Boolean(frame.active) });
      case "agents":
        return this.set({ online: Boolean(frame.online), groupsUp: frame.groups ?? null });
      case "thread":
        return this.onThread(frame.thread);
      case "queue":
        return this.set({ queuePosition: place(frame.position), wait: place(frame.estimated_wait_seconds) });
      case "seen":
        if (!this.state.seen || compareIds(frame.id, this.state.seen) > 0) this.set({ seen: frame.id });
        return;
      case "identity":
        // Signed in as another visitor (the user's own): continue as that one, from scratch.
        if (frame.session !== load(this.sessionKey)) {
          save(this.sessionKey, frame.session);
          this.messages.last = null;
          this.welcomes = 0;
          this.newConversation();
          this.conn.reconnect();
        }
        return;
      case "error":
        // (An error without a client_id, an identify's, is the page's: below.)
        if (frame.client_id && frame.client_id === this.state.thread?.id) {
          // One rating per conversation: one given already (another tab's) counts as done.
          return this.set({ rating: frame.code === "already_rated" ? "done" : "failed" });
        }
        // A host page's identify refused (over a bound): its `error` listeners hear why.
        if (!frame.client_id) this.events.emit("error", { code: frame.code, message: frame.message });
        // require_identity: say why the message was refused (sign in on the site).
        if (frame.code === "identity_required") this.pending.notice = t("signIn");
        return this.onError(frame.code, frame.client_id);
      default:
        return; // pong, and frames newer than this widget
    }
  }

  private onWelcome(frame: Extract<ServerFrame, { type: "welcome" }>): void {
    if (typeof frame.session === "string") save(this.sessionKey, frame.session);
    const first = this.welcomes++ === 0;
    const visitor = frame.visitor ?? {};
    const history = Array.isArray(frame.history) ? frame.history : [];
    const patch: Partial<State> = {
      ready: true,
      online: Boolean(frame.agents_online),
      groupsUp: frame.groups ?? null,
      identified: this.state.identified || Boolean(visitor.name || visitor.email),
      email: this.state.email || visitor.email || "",
      queuePosition: place(frame.queue_position),
    };
    const current = this.state.thread;
    if (frame.thread) {
      if (current && current.id !== frame.thread.id) this.keepThread(frame.thread.id);
      patch.thread = frame.thread;
      patch.ended = false;
    } else if (current && !this.state.ended) {
      patch.ended = true; // closed or expired while this page was away
      patch.thread = { ...current, status: "closed" };
    }
    // The first welcome's history is what was there before; after that, what was missed.
    for (const m of history) this.add(m, !first);
    if (first) patch.greet = history.length === 0;
    this.commit(patch);
    if (this.resumedFrom && history.length >= HISTORY_LIMIT) {
      // The welcome holds the first 50 messages after `last`, and the live feed starts after
      // them: resume again from the newest for the rest.
      setTimeout(() => this.conn.reconnect());
      return;
    }
    this.flush();
    this.readSent = null;
    this.reportRead();
    if (this.identity && this.conn.send(this.identity)) this.identity = undefined;
    this.reportPage();
  }

  private onThread(thread: ThreadJson): void {
    const current = this.state.thread;
    if (!isOpen(thread.status)) {
      // An older thread's end means nothing to the one on screen.
      if (current?.id === thread.id) {
        this.commit({ thread, ended: true, agentTyping: false, queuePosition: null });
      }
      return;
    }
    if (current && current.id !== thread.id) this.keepThread(thread.id);
    // A reopened thread continues on screen with its history; once an agent holds it, it
    // waits no more (the server's `queue` frame says so too).
    const patch: Partial<State> = { thread, ended: false };
    if (current?.id !== thread.id) patch.rating = ""; // another conversation: rate it anew
    if (thread.status !== "unassigned") patch.queuePosition = null;
    this.commit(patch);
  }

  private onError(code: string, clientId?: string): void {
    const own = this.messages.own(clientId);
    const patch: Partial<State> = code === "queue_full" ? { queueFull: true } : {};
    if (own?.state === "sending") {
      own.tries = (own.tries ?? 0) + 1;
      if ((code === "rate_limited" || code === "unavailable") && own.tries < MAX_RESENDS) {
        // Not stored: send it again shortly, same client_id (stored once however often sent).
        own.sentOn = undefined;
        clearTimeout(this.resendTimer);
        this.resendTimer = setTimeout(() => this.flush(), RESEND_AFTER_MS);
      } else {
        own.state = "failed";
      }
    }
    this.commit(patch);
  }

  // --- messages -------------------------------------------------------------------------

  /** A message from the server: a frame (live), or a welcome's history (live after a
   * reconnect: it holds what was missed). */
  private add(m: MessageJson, live: boolean): void {
    const message = this.messages.receive(m);
    if (!message || !live) return;
    this.events.emit("message", publicMessage(message));
    if (message.sender_type === "visitor") return;
    if (message.sender_type === "agent") {
      this.pending.agentTyping = false;
      if (!this.state.open || document.hidden) this.title.start();
    }
    if (!this.state.open) this.pending.unread = (this.pending.unread ?? this.state.unread) + 1;
  }

  /** Another thread is the visitor's open one now: drop what belongs to other threads. */
  private keepThread(threadId: string): void {
    this.messages.keepThread(threadId);
    this.pending.greet = false;
    this.pending.agentTyping = false;
  }

  private commit(patch: Partial<State> = {}): void {
    const changes = { ...this.pending, ...patch, messages: this.messages.snapshot() };
    this.pending = {};
    this.set(changes);
  }

  /** Send every own message still waiting on the current socket (in the order written). */
  private flush(): void {
    const generation = this.conn.generation;
    for (const m of this.messages.sending()) {
      if (m.sentOn === generation || !m.client_id) continue;
      const frame: ClientFrame = { type: "message", client_id: m.client_id, content: m.content };
      if (m.attachment) frame.attachment_id = m.attachment.id;
      if (this.fresh) frame.reopen = false;
      if (this.state.group) frame.group_id = this.state.group; // used if it opens a conversation
      if (!this.conn.send(frame)) return;
      m.sentOn = generation;
    }
  }

  // --- the visitor's actions ------------------------------------------------------------

  send(text: string): boolean {
    const content = text.trim();
    // Writing after the end is allowed: the server reopens the conversation (within the
    // space's reopen window) or starts a new one.
    if (!content || this.state.stopped) return false;
    const clientId = newClientId();
    const frame: ClientFrame = { type: "message", client_id: clientId, content };
    if ([...content].length > MAX_CONTENT_CHARS || !fitsFrame(frame)) {
      this.set({ notice: t("tooLong", { n: MAX_CONTENT_CHARS }) });
      return false;
    }
    this.messages.write(clientId, content);
    this.stopTyping();
    this.commit({ notice: "" });
    this.flush();
    return true;
  }

  /** Upload a file (the paperclip), then send it in a message with `text`, which may be empty.
   * True once sent; false with a notice saying why (too large, a type the space refuses). */
  async attach(file: File, text = ""): Promise<boolean> {
    const session = load(this.sessionKey);
    if (this.state.stopped || this.state.uploading || !session) return false;
    const content = text.trim();
    const notice =
      this.maxBytes && file.size > this.maxBytes
        ? attachments().uploadError("too_large", this.maxBytes)
        : [...content].length > MAX_CONTENT_CHARS
          ? t("tooLong", { n: MAX_CONTENT_CHARS })
          : "";
    if (notice) {
      this.set({ notice });
      return false;
    }
    this.set({ uploading: true, notice: "" });
    const up = await this.files.upload(file, session);
    if (typeof up === "string") {
      this.set({ uploading: false, notice: attachments().uploadError(up, this.maxBytes) });
      return false;
    }
    this.messages.write(newClientId(), content || up.attachment.name, up.attachment);
    this.stopTyping();
    this.commit({ uploading: false });
    this.flush();
    return true;
  }

  private get files(): Files {
    return (this.heldFiles ??= new (attachments().Files)(this.embed, () => this.commit()));
  }

  /** A link to a message's file (asked for in the background; shown once it arrives). */
  fileLink(id: string): string | undefined {
    return this.files.link(id, load(this.sessionKey));
  }

  /** Open a file whose shown link has expired, once a fresh one arrives (a download). */
  openFile(id: string): boolean {
    if (this.files.fresh(id)) return false;
    void this.files.ask(id, load(this.sessionKey)).then((url) => url && open(url, "_blank", "noopener"));
    return true;
  }

  retry(key: string): void {
    const own = this.messages.byKey(key);
    if (own?.state !== "failed") return;
    own.state = "sending";
    own.sentOn = undefined;
    own.tries = 0;
    this.commit();
    this.flush();
  }

  /** The visitor is typing: `typing` frames at most every 3 s, and inactive after a pause. With
   * the space's typing preview on, the draft too, at most every 0.5 s (the latest wins). */
  typing(draft = ""): void {
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
    if (!this.state.thread || this.state.ended) return;
    if (this.preview && draft.trim()) return this.sendDraft(draft);
    const now = Date.now();
    if (now - this.typingSentAt < TYPING_EVERY_MS) return;
    if (this.conn.send({ type: "typing", active: true })) this.typingSentAt = now;
  }

  private sendDraft(draft: string): void {
    clearTimeout(this.draftTimer);
    const wait = this.draftSentAt + DRAFT_EVERY_MS - Date.now();
    if (wait > 0) {
      this.draftTimer = setTimeout(() => this.sendDraft(draft), wait);
      return;
    }
    const frame = { type: "typing" as const, active: true, draft: draft.slice(0, DRAFT_CHARS) };
    if (this.conn.send(frame)) this.typingSentAt = this.draftSentAt = Date.now();
  }

  /** The visitor's own copy of the conversation (a plain link: the response is an attachment). */
  /** The service's origin (the header's pictures must come from it). */
  get service(): string {
    return this.embed.http;
  }

  transcriptUrl(): string | null {
    const session = load(this.sessionKey);
    const thread = this.state.thread;
    if (!session || !thread) return null;
    const query = new URLSearchParams({ format: "txt", session });
    return `${this.embed.http}/api/v1/widget/${encodeURIComponent(this.embed.key)}/threads/${thread.id}/transcript?${query}`;
  }

  private stopTyping(): void {
    clearTimeout(this.typingIdle);
    clearTimeout(this.draftTimer);
    if (!this.typingSentAt) return;
    this.typingSentAt = 0;
    this.conn.send({ type: "typing", active: false });
  }

  identify(who: Identity, fromForm = false): void {
    const frame: Extract<ClientFrame, { type: "identify" }> = { type: "identify" };
    if (typeof who?.token === "string") frame.token = who.token; // signed: the token alone
    else {
      const name = typeof who?.name === "string" ? who.name.trim().slice(0, MAX_NAME_CHARS) : "";
      const email = typeof who?.email === "string" ? who.email.trim() : "";
      if (name) frame.name = name;
      if (email && email.length <= 254 && EMAIL.test(email)) frame.email = email;
      const attributes = who?.attributes;
      if (attributes && typeof attributes === "object") frame.attributes = attributes;
      if (!frame.name && !frame.email && !frame.attributes) return;
      // The offline form's email leaves a message for the team (an email conversation).
      if (fromForm && frame.email) frame.offline = true;
    }
    this.identity = this.conn.send(frame) ? undefined : frame;
    this.set({ identified: true, thanked: this.state.thanked || fromForm, email: frame.email ?? this.state.email });
  }

  /** The visitor sees the conversation (open, page visible): report the newest message read,
   * once each; agents see "Seen by the visitor". */
  private reportRead(): void {
    const last = this.messages.last;
    if (!last || !this.state.open || document.hidden || this.state.status !== "connected") return;
    if (this.readSent && compareIds(last, this.readSent) <= 0) return;
    if (this.conn.send({ type: "read", id: last })) this.readSent = last;
  }

  pickGroup(id: string): void {
    this.set({ group: id });
  }

  /** Rate the ended conversation (structures.md "Ratings"): once (the form holds its buttons
   * while sending and thanks after the ack); the service trims the comment, blank is none. */
  rate(score: "good" | "bad", comment = ""): void {
    const thread = this.state.thread;
    if (!thread) return;
    // The conversation's id is the rating's client_id: one rating per conversation, so a resend
    // (or another tab's) is the same request, answered with the same ack.
    const frame: ClientFrame = { type: "rate", client_id: thread.id, thread_id: thread.id, score, comment };
    this.set({ rating: this.conn.send(frame) ? "sending" : "failed" });
  }

  newConversation(): void {
    this.messages.keepThread(null);
    this.fresh = true;
    this.commit({
      rating: "",
      thread: null,
      ended: false,
      greet: true,
      queueFull: false,
      queuePosition: null,
      agentTyping: false,
    });
  }

  open(): void {
    this.title.stop();
    if (this.state.open) return;
    this.set({ open: true, unread: 0 });
    this.events.emit("open");
  }

  close(): void {
    if (!this.state.open) return;
    this.stopTyping();
    this.set({ open: false });
    this.events.emit("close");
  }

  toggle(): void {
    if (this.state.open) this.close();
    else this.open();
  }
}

/** A queue place from the server: a positive whole number, or null. */
function place(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}

/** src/attachments.ts, which comes with the window chunk (src/lazy/app.tsx): only a visitor who
 * opened the chat sends or sees a file, so the calls needing it come from the window's UI. */
function attachments(): typeof import("./attachments") {
  return fetchChunk("app").module as unknown as typeof import("./attachments");
}
