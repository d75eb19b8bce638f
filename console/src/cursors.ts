// Resume cursors, one per space (every event frame's `cursor` is its space-stream entry id).
// After a reconnect the console subscribes with the last cursor seen, the server replays every
// event after it, and this drops any frame at or before the cursor, so each applies once.
// Kept in memory only: a reloaded page starts from the REST lists and subscribes afresh.

import { compareIds } from "./protocol";

export class Cursors {
  private readonly last = new Map<string, string>();
  /** Spaces whose replay has not ended yet (subscribe sent, `subscribed` not yet received). */
  private readonly replaying = new Set<string>();

  get(spaceId: string): string | undefined {
    return this.last.get(spaceId);
  }

  /** A subscribe frame went out: frames until `subscribed` are replays. */
  subscribing(spaceId: string): void {
    this.replaying.add(spaceId);
  }

  /** `subscribed`: every event up to `cursor` has been delivered, later ones will be. */
  subscribed(spaceId: string, cursor: string): void {
    this.replaying.delete(spaceId);
    this.accept(spaceId, cursor);
  }

  isReplaying(spaceId: string): boolean {
    return this.replaying.has(spaceId);
  }

  /** True when the frame is new for its space (the cursor moves to it), false for a repeat. */
  accept(spaceId: string, cursor: string): boolean {
    const seen = this.last.get(spaceId);
    if (seen !== undefined && compareIds(cursor, seen) <= 0) return false;
    this.last.set(spaceId, cursor);
    return true;
  }

  /** The cursor expired (or the space went away): the next subscribe starts from now. */
  forget(spaceId: string): void {
    this.last.delete(spaceId);
    this.replaying.delete(spaceId);
  }

  clear(): void {
    this.last.clear();
    this.replaying.clear();
  }
}
