// The conversation's messages in memory: ordered by id, at most 500, deduplicated by id and,
// for the visitor's own, by client_id (an ack, the history after a reconnect and the echo from
// another tab all name the same message).

import { type Attachment, compareIds, type MessageJson, type QuickReply, type SenderType } from "./protocol";

export type Delivery = "sending" | "sent" | "failed";

export interface Message {
  /** Stable across the ack, for rendering. */
  key: string;
  id?: string;
  client_id?: string;
  thread_id?: string;
  sender_type: SenderType;
  sender_name?: string | null;
  content: string;
  created_at: string;
  attachment?: Attachment;
  /** Buttons under an agent's message (the window shows the last message's). */
  quick_replies?: QuickReply[];
  /** The visitor's messages only. */
  state?: Delivery;
  /** Own, sending: the connection generation it was last sent on. */
  sentOn?: number;
  /** Own: automatic resends after rate_limited / unavailable. */
  tries?: number;
}

const MAX_MESSAGES = 500;

export class Messages {
  private list: Message[] = [];
  private readonly byId = new Map<string, Message>();
  private readonly byClientId = new Map<string, Message>();
  /** The newest id the server sent in a message frame or a history (never an ack's: the feed
   * may still owe older messages when an ack arrives), for resuming with `last`. */
  last: string | null = null;

  own(clientId: string | undefined): Message | undefined {
    return clientId ? this.byClientId.get(clientId) : undefined;
  }

  byKey(key: string): Message | undefined {
    return this.list.find((m) => m.key === key);
  }

  /** Own messages waiting for an ack, in the order written. */
  sending(): Message[] {
    return this.list.filter((m) => m.state === "sending");
  }

  /** A message from the server. Returns it when it is news: a new message, or an own one
   * that this confirms; undefined for one already known. */
  receive(m: MessageJson): Message | undefined {
    if (typeof m.id !== "string" || this.byId.has(m.id)) return undefined;
    if (!this.last || compareIds(m.id, this.last) > 0) this.last = m.id;
    const own = this.own(m.client_id ?? undefined);
    if (own && m.sender_type === "visitor") {
      return this.settle(own, m.id, m.created_at, m.thread_id) ? own : undefined;
    }
    // The server's fields as they are (quick_replies too), nulls made absent where read.
    const message: Message = {
      ...m,
      key: `i${m.id}`,
      client_id: m.client_id ?? undefined,
      content: String(m.content ?? ""),
      attachment: m.attachment ?? undefined,
      state: m.sender_type === "visitor" ? "sent" : undefined,
    };
    this.list.push(message);
    this.index(message);
    return message;
  }

  /** The visitor wrote a message: shown at once, "sending" until acked. */
  write(clientId: string, content: string, attachment?: Attachment): Message {
    const own: Message = {
      key: `c${clientId}`,
      client_id: clientId,
      sender_type: "visitor",
      content,
      attachment,
      created_at: new Date().toISOString(),
      state: "sending",
    };
    this.list.push(own);
    this.index(own);
    return own;
  }

  /** An own message is durably stored: it has an id and a time now. True if it was not
   * known to be sent before. */
  settle(own: Message, id: string, createdAt: string, threadId: string): boolean {
    const news = own.state !== "sent";
    own.id = id;
    own.created_at = createdAt;
    own.thread_id = threadId;
    own.state = "sent";
    this.byId.set(id, own);
    return news;
  }

  /** Keep only what belongs to `threadId` (or to no thread yet); none: only unsent ones. */
  keepThread(threadId: string | null): void {
    this.list = this.list.filter((m) =>
      threadId ? !m.thread_id || m.thread_id === threadId : m.state === "sending",
    );
    this.reindex();
  }

  /** Ordered by id (stored messages), unsent ones last in the order written; the oldest
   * stored ones beyond 500 are forgotten. A new array each time, for rendering. */
  snapshot(): Message[] {
    this.list.sort((a, b) => (a.id && b.id ? compareIds(a.id, b.id) : a.id ? -1 : b.id ? 1 : 0));
    let excess = this.list.length - MAX_MESSAGES;
    if (excess > 0) {
      this.list = this.list.filter((m) => excess <= 0 || !m.id || excess-- <= 0);
      this.reindex();
    }
    return this.list.slice();
  }

  private index(m: Message): void {
    if (m.id) this.byId.set(m.id, m);
    if (m.client_id && m.sender_type === "visitor") this.byClientId.set(m.client_id, m);
  }

  private reindex(): void {
    this.byId.clear();
    this.byClientId.clear();
    for (const m of this.list) this.index(m);
  }
}

/** What `ChatWidget.on("message", fn)` receives: a copy, in the contract's shape. */
export function publicMessage(m: Message) {
  return {
    id: m.id ?? null,
    thread_id: m.thread_id ?? null,
    sender_type: m.sender_type,
    sender_name: m.sender_name ?? null,
    content: m.content,
    client_id: m.client_id ?? null,
    created_at: m.created_at,
  };
}
