// One thread's messages in memory: ordered by id, deduplicated by id and by client_id, and the
// agent's own unsent ones after them.
//
// An own message is "sending" from the moment it is written until the server acks it (the ack
// names the stored id) or its echo arrives on the feed (same client_id), whichever comes first;
// then it is an ordinary message, "sent". An error frame naming its client_id makes it "failed";
// retrying sends the same client_id again, which the server stores once. Messages still
// "sending" when the socket drops go out again after the next welcome.

import {
  type Attachment,
  compareIds,
  type Message,
  type MessagePage,
  type SenderType,
} from "./protocol";

export type MessageState = "sending" | "sent" | "failed";

export interface Shown {
  /** Stable across sending -> sent, so the element (and a test's handle on it) persists. */
  key: string;
  id: string | null;
  client_id: string | null;
  sender_type: SenderType;
  sender_id: string;
  sender_name: string;
  content: string;
  attachment?: Attachment;
  quick_replies?: { label: string }[];
  created_at: string;
  state: MessageState;
  error: string;
}

export interface Pending {
  client_id: string;
  thread_id: string;
  content: string;
  /** An uploaded file the message carries. */
  attachment?: Attachment;
  state: "sending" | "failed";
  error: string;
  created_at: string;
  /** Date.now() of the last send attempt, to give up on an ack that never comes. */
  sent_at: number;
}

export function keyOf(m: { id: string; client_id: string | null }): string {
  return m.client_id ? `c:${m.client_id}` : `i:${m.id}`;
}

export class MessageLog {
  private readonly byId = new Map<string, Message>();
  private readonly pending = new Map<string, Pending>();
  private sorted: Message[] | null = [];
  /** next_before of the oldest page loaded: undefined before any, null at the beginning. */
  before: string | null | undefined = undefined;
  /** A history page is in flight. */
  loading = false;
  /** Events may have been missed (an expired cursor): reload the newest page when shown. */
  stale = false;
  error = "";

  constructor(readonly threadId: string) {}

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** A message from a frame or a history page; true when it was not known before. */
  receive(m: Message): boolean {
    if (m.client_id) this.pending.delete(m.client_id);
    if (this.byId.has(m.id)) return false;
    this.byId.set(m.id, m);
    this.sorted = null;
    return true;
  }

  /** A page of GET /threads/{id}/messages (`older`: one before what is loaded). */
  history(page: MessagePage, older: boolean): void {
    for (const m of page.items) this.receive(m);
    if (older || this.before === undefined || this.stale) this.before = page.next_before;
    this.stale = false;
  }

  write(clientId: string, content: string, now: number, attachment?: Attachment): Pending {
    const p: Pending = {
      client_id: clientId,
      thread_id: this.threadId,
      content,
      attachment,
      state: "sending",
      error: "",
      created_at: new Date(now).toISOString(),
      sent_at: now,
    };
    this.pending.set(clientId, p);
    return p;
  }

  /** The server stored an own message: it becomes an ordinary one. */
  ack(
    clientId: string,
    id: string,
    createdAt: string,
    sender: { id: string; name: string },
  ): boolean {
    const p = this.pending.get(clientId);
    if (!p) return false;
    return this.receive({
      id,
      thread_id: this.threadId,
      sender_type: "agent",
      sender_id: sender.id,
      sender_name: sender.name,
      content: p.content,
      client_id: clientId,
      created_at: createdAt,
      ...(p.attachment ? { attachment: p.attachment } : {}),
    });
  }

  fail(clientId: string, error: string): boolean {
    const p = this.pending.get(clientId);
    if (!p) return false;
    p.state = "failed";
    p.error = error;
    return true;
  }

  /** Mark a failed message as sending again (the caller sends it, same client_id). */
  retry(clientId: string, now: number): Pending | undefined {
    const p = this.pending.get(clientId);
    if (!p) return undefined;
    p.state = "sending";
    p.error = "";
    p.sent_at = now;
    return p;
  }

  discard(clientId: string): void {
    this.pending.delete(clientId);
  }

  /** Own messages waiting for an ack. */
  sending(): Pending[] {
    return [...this.pending.values()].filter((p) => p.state === "sending");
  }

  messages(): Message[] {
    if (!this.sorted) this.sorted = [...this.byId.values()].sort((a, b) => compareIds(a.id, b.id));
    return this.sorted;
  }

  last(): Message | undefined {
    return this.messages().at(-1);
  }

  /** What the thread view shows, oldest first, unsent ones last. */
  shown(me: { id: string; name: string }): Shown[] {
    const out: Shown[] = this.messages().map((m) => ({
      key: keyOf(m),
      id: m.id,
      client_id: m.client_id,
      sender_type: m.sender_type,
      sender_id: m.sender_id,
      sender_name: m.sender_name,
      content: m.content,
      attachment: m.attachment,
      quick_replies: m.quick_replies,
      created_at: m.created_at,
      state: "sent",
      error: "",
    }));
    for (const p of this.pending.values()) {
      out.push({
        key: `c:${p.client_id}`,
        id: null,
        client_id: p.client_id,
        sender_type: "agent",
        sender_id: me.id,
        sender_name: me.name,
        content: p.content,
        attachment: p.attachment,
        created_at: p.created_at,
        state: p.state,
        error: p.error,
      });
    }
    return out;
  }
}
