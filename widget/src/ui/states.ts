// Which screen the window shows, and the one sentence that says why, in plain words (README
// "What visitors see"): when nobody can take the conversation, EITHER the leave-a-message form
// OR the message box, never both. The sentences come from the language's catalogue.

import type { State } from "../chat";
import { noAgent } from "../groups";
import { judgeHours } from "../hours";
import { t } from "../i18n";

/** Outside the space's business hours now (hours.ts; Chat draws again at each bound) and no
 * agent holds the visitor's conversation:
 * hours win whoever is online; a conversation an agent holds goes on (structures.md "Business
 * hours"). */
export function closedHours(s: State): boolean {
  return judgeHours(s.hours, Date.now()).outside && s.thread?.status !== "active";
}

/** Nobody can take a conversation now: nobody online, the queue full, no agent for the group,
 * or outside business hours. */
export function isAway(s: State): boolean {
  return !s.online || s.queueFull || noAgent(s) || closedHours(s);
}

/** "form": the leave-a-message form alone; "chat": the message box. While nobody can answer,
 * the visitor writes first (what they came for), then leaves an email for the reply: the form
 * takes the box's place once they have written, until they leave it or someone is back. */
export function screen(s: State): "form" | "chat" {
  if (s.thanked || !isAway(s)) return "chat";
  // A conversation that ended after an agent answered shows its end (and the rating): the
  // visitor had their answer; writing again reopens it, and then the rules below apply.
  if (s.ended && s.messages.some((m) => m.sender_type === "agent")) return "chat";
  if (s.queueFull) return "form"; // the server refuses a new conversation: the box would fail
  // A visitor the page identified can be reached already.
  if (s.identified) return "chat";
  return s.messages.some((m) => m.sender_type === "visitor") ? "form" : "chat";
}

/** The sentence above the box while away ("" when someone is there to answer). */
export function awayLine(s: State): string {
  if (!isAway(s)) return "";
  return t(s.thanked ? "thanks" : "away");
}

/** The header's word on the connection: none while connected, or once stopped (the window
 * says the chat is not available); never the socket's state names. */
export function statusLine(s: State): string {
  return s.status === "connected" || s.stopped ? "" : t("reconnecting");
}
