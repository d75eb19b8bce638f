// The wire vocabulary both front-ends share: the widget (/ws/widget) and the console (/ws/agent
// and REST) import it through their own src/protocol.ts, which adds the frames only that app
// reads. ../../../shared/CONTRACT.md ("Conventions", and the thread and message objects under
// "REST") and structures.md ("Frames and limits"). Plain TypeScript with no imports: each app's
// tsc and Vite build compile it as one of its own files (as `@chat/shared/protocol`).

/** A thread's lifecycle, in order: waiting for an agent, held by one, then ended either way. */
export const THREAD_STATUSES = ["unassigned", "active", "closed", "expired"] as const;
export type ThreadStatus = (typeof THREAD_STATUSES)[number];

/** Still going: waiting for an agent or held by one (closed and expired are final). */
export function isOpen(status: ThreadStatus): boolean {
  return status === "unassigned" || status === "active";
}

export type SenderType = "visitor" | "agent" | "system";

/** Every frame, either way, is a JSON object with its kind in `type`. */
export interface FrameBase {
  type: string;
}

/** A file a message carries (chat/http/api/attachments.py; structures.md "Attachments"). */
export interface Attachment {
  id: string;
  name: string;
  content_type: string;
  size: number;
}

/** A message's content, in characters (code points) after trimming. */
export const MAX_CONTENT_CHARS = 4000;

/**
 * The most UTF-8 bytes a frame we send may take. The server closes the socket on any frame over
 * 48 KiB with 1009 (chat/http/app.py WEBSOCKET_MAX_MESSAGE_BYTES, sized so that the longest valid
 * message fits however it is escaped: 12 bytes a character at worst; hypercorn counts a text
 * frame's characters, never more than its bytes). `fitsFrame` measures the whole frame as sent,
 * so the margin is not room for the envelope: it keeps a frame at the limit from ever going out,
 * and it stays small enough that the longest valid message (MAX_CONTENT_CHARS characters of 4
 * bytes each, or of control characters JSON.stringify escapes to 6, in the console's frame with
 * its thread_id) still fits.
 */
export const MAX_FRAME_BYTES = 48 * 1024 - 64;

/** True when `frame`, encoded as `Connection.send` encodes it, is within MAX_FRAME_BYTES. */
export function fitsFrame(frame: object): boolean {
  return new TextEncoder().encode(JSON.stringify(frame)).length <= MAX_FRAME_BYTES;
}

/** Stream entry ids `<ms>-<seq>` (message ids, cursors) order a thread and resume a socket. */
export function compareIds(a: string, b: string): number {
  const [am = 0, aq = 0] = a.split("-").map(Number);
  const [bm = 0, bq = 0] = b.split("-").map(Number);
  return am - bm || aq - bq;
}

/** A client_id for an own message: the server stores a client_id once, so resends dedupe. */
export function newClientId(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === "function") return c.randomUUID();
  // randomUUID exists only in secure contexts; plain http pages still have getRandomValues.
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return h.replace(/(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
}
