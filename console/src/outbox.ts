// What the agent sends: messages (optimistic, reconciled by client_id: messages.ts), typing
// frames (throttled), claims, closes and transfers (REST: one answer per click, shown inline),
// and the "accepting chats" switch.

import { ApiError, errorText } from "./api";
import type { Console } from "./console";
import {
  type Agent,
  type Attachment,
  type ClientFrame,
  fitsFrame,
  MAX_CONTENT_CHARS,
  newClientId,
  type Thread,
} from "./protocol";

// Typing frames: "active" at most this often while keys are pressed, "inactive" after a pause.
const TYPING_EVERY_MS = 3000;
const TYPING_IDLE_MS = 4000;
// An own message with no ack this long after it went out on a live socket is shown as failed.
const ACK_TIMEOUT_MS = 15_000;

export class Outbox {
  private readonly typingSent = new Map<string, number>();
  private typingIdle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly c: Console) {}

  clear(): void {
    clearTimeout(this.typingIdle);
    this.typingSent.clear();
  }

  /** Own messages never acked on a live socket are shown as failed; true when any changed. */
  expire(now: number): boolean {
    if (!this.c.conn.connected) return false;
    let changed = false;
    for (const log of this.c.logs.values()) {
      for (const p of log.sending()) {
        if (now - p.sent_at > ACK_TIMEOUT_MS) {
          log.fail(p.client_id, "No answer from the server");
          changed = true;
        }
      }
    }
    return changed;
  }

  /** Send the composer's text; false (with an inline error) when it cannot go. */
  sendMessage(threadId: string, text: string, attachment?: Attachment): boolean {
    // A file without words shows as its name (the server does the same).
    const content = text.trim() || (attachment ? attachment.name : "");
    if (!content) return false;
    if ([...content].length > MAX_CONTENT_CHARS) {
      this.c.threadErrors.set(
        threadId,
        `A message can be at most ${MAX_CONTENT_CHARS} characters.`,
      );
      this.c.changed();
      return false;
    }
    const clientId = newClientId();
    const frame: ClientFrame = {
      type: "message",
      thread_id: threadId,
      client_id: clientId,
      content,
      ...(attachment ? { attachment_id: attachment.id } : {}),
    };
    if (!fitsFrame(frame)) {
      this.c.threadErrors.set(threadId, "This message is too long to send.");
      this.c.changed();
      return false;
    }
    this.c.threadErrors.delete(threadId);
    this.c.logOf(threadId).write(clientId, content, Date.now(), attachment);
    this.c.drafts.delete(threadId);
    this.stopTyping(threadId);
    // Not connected: it stays "sending" and goes out after the next welcome (same client_id).
    this.c.conn.send(frame);
    this.c.changed();
    return true;
  }

  retryMessage(threadId: string, clientId: string): void {
    const p = this.c.logOf(threadId).retry(clientId, Date.now());
    if (p)
      this.c.conn.send({
        type: "message",
        thread_id: threadId,
        client_id: clientId,
        content: p.content,
        ...(p.attachment ? { attachment_id: p.attachment.id } : {}),
      });
    this.c.changed();
  }

  discardMessage(threadId: string, clientId: string): void {
    this.c.logOf(threadId).discard(clientId);
    this.c.changed();
  }

  /** After a welcome: everything still "sending" goes out again (stored once by client_id). */
  resend(): void {
    const now = Date.now();
    for (const log of this.c.logs.values()) {
      for (const p of log.sending()) {
        p.sent_at = now;
        this.c.conn.send({
          type: "message",
          thread_id: p.thread_id,
          client_id: p.client_id,
          content: p.content,
          ...(p.attachment ? { attachment_id: p.attachment.id } : {}),
        });
      }
    }
  }

  setDraft(threadId: string, text: string): void {
    this.c.drafts.set(threadId, text);
    if (text.trim()) this.typed(threadId);
    else this.stopTyping(threadId);
  }

  /** A key in the composer: "typing" now and then, "stopped" after a pause. */
  private typed(threadId: string): void {
    const now = Date.now();
    if (now - (this.typingSent.get(threadId) ?? 0) > TYPING_EVERY_MS) {
      if (this.c.conn.send({ type: "typing", thread_id: threadId, active: true })) {
        this.typingSent.set(threadId, now);
      }
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(threadId), TYPING_IDLE_MS);
  }

  stopTyping(threadId: string): void {
    clearTimeout(this.typingIdle);
    if (this.typingSent.delete(threadId)) {
      this.c.conn.send({ type: "typing", thread_id: threadId, active: false });
    }
  }

  claim(id: string): Promise<void> {
    return this.act(id, "claim", undefined);
  }

  close(id: string): Promise<void> {
    return this.act(id, "close", undefined);
  }

  /** Reopen a closed or expired conversation; the agent holds it from then on. */
  reopen(id: string): Promise<void> {
    return this.act(id, "reopen", undefined);
  }

  transfer(id: string, agentId: string): Promise<void> {
    return this.act(id, "transfer", { agent_id: agentId });
  }

  /** Claim, close, transfer and reopen go over REST: a direct answer per click, errors inline. */
  private async act(id: string, action: string, body: unknown): Promise<void> {
    const key = `${id}:${action}`;
    if (this.c.busy.has(key)) return;
    this.c.busy.add(key);
    this.c.threadErrors.delete(id);
    this.c.changed();
    try {
      const t = await this.c.auth.api<Thread>(
        "POST",
        `/threads/${encodeURIComponent(id)}/${action}`,
        body,
      );
      this.c.threads.upsert(t, true);
    } catch (err) {
      this.c.threadErrors.set(id, errorText(err));
      if (err instanceof ApiError && err.status === 409) this.refetchThread(id);
    } finally {
      this.c.busy.delete(key);
      this.c.changed();
    }
  }

  /** Someone else got there first: show the thread as it is now. */
  refetchThread(id: string): void {
    void this.c.auth
      .api<Thread>("GET", `/threads/${encodeURIComponent(id)}`)
      .then((t) => {
        this.c.threads.upsert(t, true);
        this.c.changed();
      })
      .catch(() => {});
  }

  async setAccepting(accepting: boolean): Promise<void> {
    if (!this.c.me) return;
    this.c.acceptingError = "";
    this.c.me = { ...this.c.me, accepting_chats: accepting };
    this.c.changed();
    try {
      this.c.setMe(
        await this.c.auth.api<Agent>("PATCH", "/auth/me", { accepting_chats: accepting }),
      );
    } catch (err) {
      if (this.c.me) this.c.me = { ...this.c.me, accepting_chats: !accepting };
      this.c.acceptingError = errorText(err);
      this.c.changed();
    }
  }
}
