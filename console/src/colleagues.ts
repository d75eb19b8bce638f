// Who else is at a conversation, so that agents do not collide: the agents viewing each thread
// (`viewers` frames and the `subscribed` snapshot; structures.md "Viewing presence") and
// colleagues typing in it. Presence of the moment: in memory only, each `subscribed` replaces a
// space's viewers wholesale, and a typist goes away by itself after a while without a frame.

import type { Console } from "./console";
import type { Thread } from "./protocol";

export interface ThreadViewers {
  thread_id: string;
  agent_ids: string[];
}

interface Typist {
  who: string;
  until: number;
}

export class Colleagues {
  /** space id -> thread id -> the agents viewing it (this agent included). */
  private readonly viewers = new Map<string, Map<string, string[]>>();
  /** thread id -> agent id -> that colleague's typing, until when (Date.now()). */
  private readonly typists = new Map<string, Map<string, Typist>>();

  clear(): void {
    this.viewers.clear();
    this.typists.clear();
  }

  /** A space's viewers as the server holds them now (every thread not listed: nobody). */
  snapshot(spaceId: string, list: ThreadViewers[]): void {
    this.viewers.set(spaceId, new Map(list.map((v) => [v.thread_id, v.agent_ids])));
  }

  /** A thread's whole list of viewers changed. */
  view(spaceId: string, threadId: string, agentIds: string[]): void {
    let threads = this.viewers.get(spaceId);
    if (!threads) {
      threads = new Map();
      this.viewers.set(spaceId, threads);
    }
    if (agentIds.length === 0) threads.delete(threadId);
    else threads.set(threadId, agentIds);
  }

  forgetSpace(spaceId: string): void {
    this.viewers.delete(spaceId);
  }

  /** The other agents viewing this thread. */
  viewing(threadId: string, me: string | undefined): string[] {
    for (const threads of this.viewers.values()) {
      const ids = threads.get(threadId);
      if (ids) return ids.filter((id) => id !== me);
    }
    return [];
  }

  typing(threadId: string, agentId: string, who: string, until: number): void {
    let here = this.typists.get(threadId);
    if (!here) {
      here = new Map();
      this.typists.set(threadId, here);
    }
    here.set(agentId, { who, until });
  }

  stopped(threadId: string, agentId: string): void {
    const here = this.typists.get(threadId);
    here?.delete(agentId);
    if (here?.size === 0) this.typists.delete(threadId);
  }

  /** Names of the colleagues typing in this thread now. */
  typingIn(threadId: string): string[] {
    return [...(this.typists.get(threadId)?.values() ?? [])].map((t) => t.who);
  }

  /** Forget typists whose time is up; true when any was. */
  sweep(now: number): boolean {
    let changed = false;
    for (const [threadId, here] of this.typists) {
      for (const [agentId, t] of here) {
        if (t.until <= now) {
          here.delete(agentId);
          changed = true;
        }
      }
      if (here.size === 0) this.typists.delete(threadId);
    }
    return changed;
  }
}

/** "Ada", "Ada and Bo", "Ada, Bo and Cy". */
export function names(list: string[]): string {
  if (list.length <= 1) return list[0] ?? "";
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}

/** Names of the other agents viewing this thread now. */
export function alsoHere(c: Console, threadId: string): string[] {
  return c.colleagues
    .viewing(threadId, c.me?.id)
    .map((id) => c.agents.get(id)?.name ?? "Another agent");
}

/** The name of the other agent holding this thread, if another holds it. */
export function heldByOther(c: Console, t: Thread): string | null {
  if (t.status !== "active" || !t.assigned_agent_id || t.assigned_agent_id === c.me?.id) {
    return null;
  }
  return c.agents.get(t.assigned_agent_id)?.name ?? "another agent";
}
