// The REST objects and /ws/agent frames as this console reads them: ../../../shared/CONTRACT.md
// ("REST", "WebSocket /ws/agent") and structures.md ("API: what this implementation decides").
// The vocabulary the widget shares (thread statuses, limits, ids) is defined once in
// frontend/shared/protocol.ts.

import type { Attachment, SenderType, ThreadStatus } from "@chat/shared/protocol";
import type { Note } from "./notes";
import type { Rating } from "./ratings";

export * from "@chat/shared/protocol";

export type Role = "admin" | "supervisor" | "agent";

/** Supervisors and admins run the floor: take over, reassign, whisper (README, "Roles"). */
export const supervises = (role: Role | undefined): boolean =>
  role === "supervisor" || role === "admin";

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
  /** Conversations held now across the organization's spaces (REST answers only). */
  active_chats?: number | null;
  created_at: string;
  /** The groups (departments) the agent belongs to. */
  group_ids?: string[];
  /** "bot": a bot account (README "Bots"): never online, no capacity, its messages are a bot's. */
  kind?: "human" | "bot";
}

/** A bot account (README "Bots"): never a person, whatever its name says. */
export const isBot = (agent: Pick<Agent, "kind"> | undefined): boolean => agent?.kind === "bot";

export type Strategy = "manual" | "round_robin" | "least_loaded";

/** A group (department) of agents: GET /groups. */
export interface Group {
  id: string;
  organization_id: string;
  name: string;
  strategy: Strategy;
  sticky: boolean;
  /** Hand a router-assigned conversation unanswered this long (s) to another member; null: off. */
  auto_transfer_seconds?: number | null;
  agent_ids: string[];
  created_at: string;
  /** The bot that answers the group's new conversations first (README "Bots"); null: none. */
  bot_agent_id?: string | null;
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
  /** structures.md "Signed visitor identity": the site's user id of a verified visitor. */
  external_id?: string | null;
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
  // Only on an email conversation (a message left offline): answers also go to `email`.
  channel?: "email";
  email?: string | null;
  /** The group it is routed in; null: the whole team. */
  group_id?: string | null;
  /** Only on a conversation an admin soft-deleted (the Deleted page). */
  deleted_at?: string | null;
  visitor?: Visitor;
  /** In thread lists: its tags (as projected). */
  tag_ids?: string[];
  /** Thread lists: the visitor's messages after this agent's read marker, and the marker. */
  unread?: number;
  last_read_id?: string | null;
  /** In the log's frames: the bot that got it first; it holds it while assigned_agent_id is the
   * same (README "Bots"). */
  bot_agent_id?: string | null;
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
  /** The file the message carries (structures.md, "Attachments"). */
  attachment?: Attachment;
  /** Buttons a bot (or agent) offered the visitor under it (structures.md, "Quick replies"). */
  quick_replies?: { label: string }[];
}

// A visitor message that came by email: a reply (client_id "email:<hash of its Message-ID>") or
// the offline form's lead ("lead-<uuid>"). Messages carry no channel in REST history; the
// client_id is in history and live frames alike (structures.md, "Email").
export function cameByEmail(m: Pick<Message, "sender_type" | "client_id">): boolean {
  const id = m.client_id ?? "";
  return m.sender_type === "visitor" && (id.startsWith("email:") || id.startsWith("lead-"));
}

export interface ThreadPage {
  items: Thread[];
  next_cursor: string | null;
}

export interface MessagePage {
  items: Message[];
  next_before: string | null;
}

/** structures.md "Visitor context": what the host page and the browser said, unverified. */
export interface VisitorContext {
  attributes: Record<string, string | number | boolean | null>;
  /** Signed in on the site with a signed identity token; attributes stay the site's word. */
  verified: boolean;
  external_id?: string | null;
  locale: string | null;
  timezone: string | null;
  browser: string | null;
  os: string | null;
  pages: { url: string; title: string | null; at: string }[];
}

export interface VisitorDetail {
  visitor: Visitor;
  threads: Thread[];
  context?: VisitorContext;
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
  /** Set when a signed identify verified the visitor (structures.md "Signed visitor identity"). */
  external_id?: string;
}

/** A conversation left its bot (`thread.updated` `handed_over`, README "Bots"): a line in its
 * timeline. Only `bot_id` is known of one read later (the thread's `bot_agent_id`). */
export interface Handover {
  bot_id: string;
  /** requested, visitor_asked, unanswered, bot_gone */
  reason?: string;
  note?: string;
  /** When (the thread's last activity in the frame); absent: after the bot's last message. */
  at?: string;
}

export type ActionRef = "claim" | "close" | "transfer" | "reopen";

/** A floor's figures (README "The floor view"): the organization's, a space's or a group's. */
export interface FloorFigures {
  waiting: number;
  longest_waiting_since: string | null;
  active: number;
  /** Agents present (a fresh heartbeat) and accepting chats; present and not: away. */
  agents_online: number;
  agents_away: number;
  first_response: { count: number; median_seconds: number | null; p90_seconds: number | null };
}

export interface FloorAgent {
  id: string;
  name: string;
  role: string;
  status: "online" | "away" | "offline";
  load: number;
  capacity: number;
  group_ids: string[];
}

/** The live floor, whole, pushed after `floor.subscribe` (supervisors and admins). */
export interface Floor {
  type: "floor";
  at: string;
  window_seconds: number;
  total: FloorFigures;
  spaces: (FloorFigures & {
    space_id: string;
    name: string;
    groups: (FloorFigures & { group_id: string | null; name: string | null })[];
  })[];
  agents: FloorAgent[];
}

export type ServerFrame =
  | Floor
  | {
      // A read marker moved: this agent's (from another of its sockets) or the visitor's.
      type: "read";
      thread_id: string;
      reader_type: "agent" | "visitor";
      reader_id: string;
      id: string;
      cursor?: string;
    }
  | { type: "welcome"; agent: Agent; spaces: { id: string; name: string }[] }
  | {
      type: "subscribed";
      space_id: string;
      cursor: string;
      /** A subscribe without a cursor: the space's open threads as they are at `cursor`. */
      threads?: Thread[];
      /** Who has which thread open now (this agent included); threads not listed: nobody. */
      viewers?: { thread_id: string; agent_ids: string[] }[];
    }
  | { type: "thread.new"; thread: Thread; cursor: string }
  | {
      type: "thread.updated";
      change:
        | "claimed"
        | "transferred"
        | "closed"
        | "expired"
        | "reopened"
        | "assigned"
        | "requeued"
        | "regrouped"
        | "handed_over";
      by: string | null;
      /** assigned: the agent the router chose; requeued: the agent it was taken back from;
       * handed_over: the bot it left. */
      agent_id?: string;
      strategy?: string;
      /** Why it closed by itself: "idle" (no visitor reply after an agent's answer); why it left
       * its bot (handed_over): requested, visitor_asked, unanswered, bot_gone. */
      reason?: string;
      /** handed_over: the bot's note to whoever takes over. */
      note?: string;
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
      /** The visitor's draft, when the space has typing_preview on (never stored). */
      draft?: string;
      cursor: string;
    }
  | { type: "thread.deleted" | "thread.restored"; thread_id: string; by: string; cursor: string }
  | { type: "presence"; agent_id: string; online: boolean; cursor: string }
  | {
      /** The whole list of agents viewing a thread now (this agent included). */
      type: "viewers";
      space_id: string;
      thread_id: string;
      agent_ids: string[];
      cursor: string;
    }
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
  /** A `read` frame's answer: the marker now (the `read` frames to other sockets carry it). */
  | { type: "ack"; ref: "read"; thread_id: string; id: string | null }
  | {
      type: "error";
      code: string;
      message?: string;
      ref?: string;
      space_id?: string;
      thread_id?: string;
      client_id?: string;
    }
  | { type: "pong" }
  | { type: "note"; note: Note; cursor: string }
  | { type: "rating"; rating: Rating; cursor: string }
  | {
      type: "thread.tags";
      change: "tagged" | "untagged";
      thread_id: string;
      tag_id: string;
      by: string;
      cursor: string;
    };

export type ClientFrame =
  | { type: "subscribe"; space_id: string; cursor?: string }
  | {
      type: "message";
      thread_id: string;
      client_id: string;
      content: string;
      attachment_id?: string;
    }
  | { type: "typing"; thread_id: string; active: boolean }
  /** The conversation this console has open (null: none), for the other agents to see. */
  | { type: "viewing"; thread_id: string | null }
  | { type: "read"; thread_id: string; id?: string }
  | { type: "heartbeat" }
  | { type: "ping" }
  | { type: "floor.subscribe" | "floor.unsubscribe" };

// Close codes (structures.md "Frames and limits").
/** Bad, expired or revoked token, deleted agent: refresh and reconnect, or sign in again. */
export const CLOSE_AUTH = 4001;

/** Milliseconds of an RFC 3339 time (0 when unreadable), for ordering. */
export function ms(time: string | null | undefined): number {
  const t = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}
