// The /ws/widget protocol as this widget reads it: ../../../shared/CONTRACT.md, "WebSocket
// /ws/widget", and structures.md "API: what this implementation decides". The vocabulary the
// console shares (thread statuses, limits, ids) is defined once in frontend/shared/protocol.ts.

import type { Attachment, SenderType, ThreadStatus } from "@chat/shared/protocol";

export * from "@chat/shared/protocol";

export interface MessageJson {
  id: string;
  thread_id: string;
  sender_type: SenderType;
  sender_id?: string | null;
  sender_name?: string | null;
  content: string;
  client_id?: string | null;
  created_at: string;
  /** The file the message shows (its content is then the file name when no words came). */
  attachment?: Attachment | null;
  /** Buttons under an agent's (a bot's) message: pressing one sends its label. */
  quick_replies?: QuickReply[];
}

export interface QuickReply {
  label: string;
}

/** POST /widget/{key}/attachments and GET .../attachments/{id}/link. */
export interface AttachmentLink {
  attachment: Attachment;
  /** A signed link (a path on the service), valid until expires_at. */
  url: string;
  expires_at: string;
}

export interface ThreadJson {
  id: string;
  status: ThreadStatus;
  /** The routing group the conversation waits for (null: the whole team). */
  group_id?: string | null;
  /** The display name of the agent holding it (routing, claim or transfer). */
  agent_name?: string | null;
}

export interface VisitorJson {
  id: string;
  name: string | null;
  email: string | null;
}

export type ServerFrame =
  | {
      type: "welcome";
      session: string;
      visitor: VisitorJson;
      thread: ThreadJson | null;
      agents_online: boolean;
      history: MessageJson[];
      /** The thread's place in the waiting queue (1 is next); null when it is not waiting. */
      queue_position?: number | null;
      /** Per group the visitor may be routed to: has it an agent online and accepting? */
      groups?: Record<string, boolean> | null;
    }
  | { type: "ack"; ref?: "rate"; client_id: string; id: string; thread_id: string; created_at: string }
  | ({ type: "message" } & MessageJson)
  | { type: "typing"; active: boolean }
  | { type: "agents"; online: boolean; groups?: Record<string, boolean> | null }
  | { type: "thread"; thread: ThreadJson }
  | { type: "queue"; position: number | null; estimated_wait_seconds?: number | null }
  | { type: "seen"; thread_id: string; id: string }
  /** A signed identify verified: the verified visitor's session (structures.md "Signed visitor
   * identity"); another than ours means reconnect as that visitor, without `last`. */
  | { type: "identity"; session: string }
  | { type: "error"; code: string; message?: string; client_id?: string }
  | { type: "pong" };

export type ClientFrame =
  | {
      type: "message";
      client_id: string;
      content: string;
      attachment_id?: string;
      reopen?: boolean;
      group_id?: string;
    }
  | { type: "typing"; active: boolean; draft?: string }
  | {
      type: "identify";
      name?: string;
      email?: string;
      offline?: boolean;
      attributes?: Record<string, string | number | boolean | null>;
      /** A JWT the host site signed; sent alone (its claims carry the rest). */
      token?: string;
    }
  | { type: "page"; url: string; title?: string; locale?: string; timezone?: string }
  | { type: "read"; id: string }
  /** Rate the visitor's finished conversation (structures.md "Ratings"): answered by an ack
   * with ref "rate", or an error with the client_id (already_rated: one per conversation). */
  | { type: "rate"; client_id: string; thread_id: string; score: "good" | "bad"; comment?: string }
  | { type: "ping" };

/** The public settings of GET /api/v1/widget/{key}/config (stored keys only: defaults here). */
export interface WidgetConfig {
  space: {
    name: string;
    settings: {
      greeting?: string;
      color?: string;
      default_group_id?: string | null;
      typing_preview?: boolean;
      /** Stored only when the space sets it; the server checks every upload anyway. */
      attachment_max_bytes?: number;
      /** "auto" (the visitor's browser languages) or a language code (README "Languages"). */
      locale?: string;
      position?: "right" | "left";
      launcher_label?: string;
    };
  };
  agents_online: boolean;
  /** Up to 3 agents by display name and picture (a URL on the service), and how many more. */
  team?: { members?: { name: string; avatar_url: string | null }[]; others?: number };
  reply_time?: "minutes" | "hour" | "day" | null;
  /** The groups the visitor may pick (visitor_picks_group), by name. */
  groups?: { id: string; name: string }[];
  /** Business hours (structures.md "Business hours"); null: always open. */
  hours?: HoursJson | null;
  /** The transcript can be emailed (the service has SMTP): offer "Email me the transcript". */
  transcript_email?: boolean;
}

/** The widget config's `hours`: open intervals ahead, [start, end) in UTC epoch ms. */
export interface HoursJson {
  open: boolean;
  away_message: string;
  intervals: [number, number][];
}

// Close codes (structures.md "Frames and limits").
export const CLOSE_TRY_AGAIN = 1013; // fell behind: reconnect at once with `last`
export const CLOSE_KEY_REVOKED = 4004; // key rotated or space deleted: never reconnect
/** The server's welcome holds at most this many messages (chat/actors/visitor.py HISTORY_LIMIT). */
export const HISTORY_LIMIT = 50;
export const MAX_NAME_CHARS = 120;
/** chat/protocol/inbound.py MAX_RATING_COMMENT_CHARS. */
export const MAX_RATING_COMMENT_CHARS = 1000;
