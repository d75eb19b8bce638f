// Whether the visitor's group has nobody to route to (structures.md "Group availability"): the
// server sends, per group the visitor may land in, whether a member is online and accepting.

import type { ThreadJson } from "./protocol";

export interface GroupView {
  thread: ThreadJson | null;
  /** The pre-chat pick, and the space's default group ("" for none). */
  group: string;
  defaultGroup: string;
  /** From the welcome and `agents` frames; null: unknown (go by `online` alone). */
  groupsUp: Record<string, boolean> | null;
}

/** The conversation would wait for a group with no eligible agent: offer the offline form. */
export function noAgent(s: GroupView): boolean {
  if (s.thread?.status === "active") return false;
  const group = s.thread?.group_id || s.group || s.defaultGroup;
  return Boolean(group) && s.groupsUp?.[group] === false;
}
