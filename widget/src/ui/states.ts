// Which screen the window shows, and the one sentence that says why, in plain words (README
// "What visitors see"): when nobody can take the conversation, EITHER the leave-a-message form
// OR the message box, never both. The sentences are here together, for the catalogue to take.

import type { State } from "../chat";
import { noAgent } from "../groups";
import { isOpen } from "../protocol";

export const TEXT = {
  away: "We reply as soon as we can.",
  thanks: "Thanks! We will get back to you.",
  reconnecting: "Back online in a moment",
};

/** Nobody can take a conversation now: nobody online, the queue full, no agent for the group. */
export function isAway(s: State): boolean {
  return !s.online || s.queueFull || noAgent(s);
}

/** "form": the leave-a-message form alone; "chat": the message box. */
export function screen(s: State): "form" | "chat" {
  if (!isAway(s) || s.thanked) return "chat";
  if (s.queueFull) return "form"; // the server refuses a new conversation: the box would fail
  // A conversation under way goes on in the box (its agent may be back in a minute), as does a
  // visitor the page identified: the team can already reach them.
  const talking = s.thread !== null && !s.ended && isOpen(s.thread.status);
  return s.identified || talking ? "chat" : "form";
}

/** The sentence above the box while away ("" when someone is there to answer). */
export function awayLine(s: State): string {
  if (!isAway(s)) return "";
  return s.thanked ? TEXT.thanks : TEXT.away;
}

/** The header's word on the connection: none while connected, or once stopped (the window
 * says the chat is not available); never the socket's state names. */
export function statusLine(s: State): string {
  return s.status === "connected" || s.stopped ? "" : TEXT.reconnecting;
}
