// The REST objects and /ws/agent frames as this console reads them: ../../../shared/CONTRACT.md
// ("REST", "WebSocket /ws/agent") and structures.md ("API: what this implementation decides").

export type Role = "admin" | "agent";
export type ThreadStatus = "unassigned" | "active" | "closed" | "expired";
export type SenderType = "visitor" | "agent" | "system";

export interface Agent {
  id: string;
  organization_id: string;
  email: string;
  name: string;
  role: Role;
  is_online: boolean;
  last_seen_at: string | null;
  accepting_chats: boolean;
  max_concurrent_chats: number;
  created_at: string;
}

export interface Space {
  id: string;
  organization_id?: string;
  name: string;
  widget_key?: string;
  allowed_domains?: string[];
  settings?: Record<string, unknown>;
  created_at?: string;
}

export interface Visitor {
  id: string;
  space_id?: string;
  name: string | null;
  email: string | null;
  current_url: string | null;
  created_at?: string | null;
}

export interface Thread {
  id: string;
  space_id: string;
  visitor_id: string;
  assigned_agent_id: string | null;
  status: ThreadStatus;
  last_activity_at: string;
  created_at: string;
  closed_at: string | null;
  visitor?: Visitor;
}

export interface Message {
  id: string;
  thread_id: string;
  sender_type: SenderType;
  sender_id: string;
  sender_name: string;
  content: string;
  client_id: string | null;
  created_at: string;
}

export interface ThreadPage {
  items: Thread[];
  next_cursor: string | null;
}

export interface MessagePage {
  items: Message[];
  next_before: string | null;
}

export interface VisitorDetail {
  visitor: Visitor;
  threads: Thread[];
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export interface SignedIn extends Tokens {
  agent: Agent;
}

/** visitor.updated carries only the fields that changed. */
export interface VisitorChange {
  visitor_id: string;
  name?: string;
  email?: string;
  current_url?: string;
}

export type ActionRef = "claim" | "close" | "transfer";

export type ServerFrame =
  | { type: "welcome"; agent: Agent; spaces: { id: string; name: string }[] }
  | { type: "subscribed"; space_id: string; cursor: string }
  | { type: "thread.new"; thread: Thread; cursor: string }
  | {
      type: "thread.updated";
      change: "claimed" | "transferred" | "closed" | "expired";
      by: string | null;
      thread: Thread;
      cursor: string;
    }
  | ({ type: "message"; cursor: string } & Message)
  | {
      type: "typing";
      thread_id: string;
      sender_type: "visitor" | "agent";
      sender_id: string;
      active: boolean;
      cursor: string;
    }
  | { type: "presence"; agent_id: string; online: boolean; cursor: string }
  | { type: "visitor.updated"; visitor: VisitorChange; cursor: string }
  | {
      type: "ack";
      ref: "message";
      client_id: string;
      id: string;
      thread_id: string;
      created_at: string;
    }
  | { type: "ack"; ref: ActionRef; thread_id: string; thread: Thread }
  | {
      type: "error";
      code: string;
      message?: string;
      ref?: string;
      space_id?: string;
      thread_id?: string;
      client_id?: string;
    }
  | { type: "pong" };

export type ClientFrame =
  | { type: "subscribe"; space_id: string; cursor?: string }
  | { type: "message"; thread_id: string; client_id: string; content: string }
  | { type: "typing"; thread_id: string; active: boolean }
  | { type: "heartbeat" }
  | { type: "ping" };

// Close codes (structures.md "Frames and limits").
/** Bad, expired or revoked token, deleted agent: refresh and reconnect, or sign in again. */
export const CLOSE_AUTH = 4001;
export const MAX_CONTENT_CHARS = 4000;
/** A frame over 16 KiB closes the socket with 1009; keep ours under it with room for JSON. */
export const MAX_FRAME_BYTES = 16 * 1024 - 256;

/** Stream entry ids `<ms>-<seq>` order a thread's messages and a space's events. */
export function compareIds(a: string, b: string): number {
  const [am = 0, aq = 0] = a.split("-").map(Number);
  const [bm = 0, bq = 0] = b.split("-").map(Number);
  return am - bm || aq - bq;
}

export function newClientId(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === "function") return c.randomUUID();
  // randomUUID exists only in secure contexts; plain http pages still have getRandomValues.
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Milliseconds of an RFC 3339 time (0 when unreadable), for ordering. */
export function ms(time: string | null | undefined): number {
  const t = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}
