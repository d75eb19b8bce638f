// Applying /ws/agent frames to the console (structures.md "API: what this implementation
// decides", "Agent frames").
//
// Resuming: every event frame carries its space's cursor. The space of a frame is read from the
// frame (thread.*) or from what is known about its thread or visitor; a frame at or before the
// space's cursor is a replay of something already applied and is dropped. Presence frames, and
// frames about threads or visitors not known yet, name no space: they are applied (each is
// idempotent: messages by id, presence as the latest state) without moving a cursor, so a resume
// replays a little more, never less.

import type { Console } from "./console";
import { TYPING_SHOWN_MS } from "./console";
import type { Message, ServerFrame, Thread } from "./protocol";
import { visitorLabel } from "./visitors";

type Frame<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

// An unavailable feed is subscribed again after this long (plus jitter).
const RESUBSCRIBE_MS = 1000;

export function onFrame(c: Console, frame: ServerFrame): void {
  switch (frame.type) {
    case "welcome":
      return welcome(c, frame);
    case "subscribed":
      if (frame.threads) snapshot(c, frame.space_id, frame.threads);
      if (frame.viewers) c.colleagues.snapshot(frame.space_id, frame.viewers);
      c.cursors.subscribed(frame.space_id, frame.cursor);
      c.subscribedOnce.add(frame.space_id);
      if (frame.space_id === c.spaceId) c.reads.ensureLists(frame.space_id, false);
      return;
    case "thread.new":
    case "thread.updated":
      return threadFrame(c, frame);
    case "message":
      return message(c, frame);
    case "typing":
      return typing(c, frame);
    case "presence":
      return presence(c, frame);
    case "viewers":
      if (!c.cursors.accept(frame.space_id, frame.cursor)) return;
      c.colleagues.view(frame.space_id, frame.thread_id, frame.agent_ids);
      return;
    case "visitor.updated": {
      const space = c.visitors.get(frame.visitor.visitor_id)?.space_id;
      if (space && !c.cursors.accept(space, frame.cursor)) return;
      c.visitors.update(frame.visitor);
      return;
    }
    case "read":
      return read(c, frame);
    case "thread.deleted": {
      const space = c.threads.get(frame.thread_id)?.space_id;
      if (space && !c.cursors.accept(space, frame.cursor)) return;
      c.threads.remove(frame.thread_id);
      c.typing.delete(frame.thread_id);
      return;
    }
    case "thread.restored":
      return; // it comes back with the closed list's next read
    case "ack":
      return ack(c, frame);
    case "error":
      return error(c, frame);
    case "pong":
      return;
    case "note": {
      const n = frame.note;
      c.notes.add(n);
      // A whisper to this agent: an alert like a visitor's message (README, "Roles").
      if (n.to_agent_id === c.me?.id && n.author_id !== c.me?.id) {
        c.attention.alert(n.author_name, n.content, n.thread_id, () => c.openThread(n.thread_id));
      }
      return;
    }
    case "rating":
      c.ratings.add(frame.rating);
      return;
    case "floor":
      c.floor = frame;
      c.changed();
      return;
    case "thread.tags":
      c.notes.apply(frame.thread_id, frame.tag_id, frame.change === "tagged");
      return;
  }
}

function welcome(c: Console, frame: Frame<"welcome">): void {
  c.setMe(frame.agent);
  // The welcome names the spaces this socket may subscribe to; REST brings the full objects.
  for (const s of frame.spaces) {
    if (!c.spaces.some((known) => known.id === s.id)) c.spaces = [...c.spaces, s];
  }
  if (!c.spaceId) c.pickSpace();
  for (const s of frame.spaces) subscribe(c, s.id);
  c.outbox.resend();
  c.announceViewing(true); // a new socket views nothing until told
  if (c.view === "floor") c.conn.send({ type: "floor.subscribe" }); // a new socket watches none
  // Presence may have moved while this tab was offline: read it again.
  void c.loadAgents();
}

/** The open threads of the space as the log holds them at the `subscribed` cursor (every later
 * change follows as an event): they fill the open lists at once, whatever PostgreSQL's lag or
 * state; REST still brings the closed list. */
function snapshot(c: Console, spaceId: string, threads: Thread[]): void {
  for (const t of threads) {
    if (t.visitor) c.visitors.seed({ ...t.visitor, space_id: t.space_id });
    c.threads.upsert(t, true);
  }
  c.seedUnread(threads);
  c.threads.openListsComplete(spaceId);
}

function subscribe(c: Console, spaceId: string): void {
  const cursor = c.cursors.get(spaceId);
  c.cursors.subscribing(spaceId);
  c.conn.send(
    cursor
      ? { type: "subscribe", space_id: spaceId, cursor }
      : { type: "subscribe", space_id: spaceId },
  );
}

function threadFrame(c: Console, frame: Frame<"thread.new"> | Frame<"thread.updated">): void {
  const t = frame.thread;
  if (!c.cursors.accept(t.space_id, frame.cursor)) return;
  if (frame.type === "thread.new" && t.visitor) {
    c.visitors.seed({ ...t.visitor, space_id: t.space_id });
  }
  const fresh = !c.threads.get(t.id);
  c.threads.upsert(t, true);
  if (frame.type === "thread.new" && fresh) {
    const who = visitorLabel(c.visitors.get(t.visitor_id), t.visitor_id);
    c.attention.alert("New conversation", `${who} in ${c.spaceName(t.space_id)}`, t.id, () =>
      c.openThread(t.id),
    );
  }
  if (frame.type === "thread.updated" && frame.change === "closed") c.typing.delete(t.id);
  if (frame.type === "thread.updated" && frame.change === "handed_over") {
    const bot = frame.agent_id ?? t.bot_agent_id;
    if (bot) {
      c.handovers.set(t.id, {
        bot_id: bot,
        ...(frame.reason ? { reason: frame.reason } : {}),
        ...(frame.note ? { note: frame.note } : {}),
        at: t.last_activity_at,
      });
    }
  }
}

function message(c: Console, frame: Frame<"message">): void {
  const space = c.threads.get(frame.thread_id)?.space_id;
  if (space && !c.cursors.accept(space, frame.cursor)) return;
  if (!space) c.reads.ensureThread(frame.thread_id);
  const m: Message = {
    id: frame.id,
    thread_id: frame.thread_id,
    sender_type: frame.sender_type,
    sender_id: frame.sender_id,
    sender_name: frame.sender_name,
    content: frame.content,
    client_id: frame.client_id,
    created_at: frame.created_at,
    // Its file: an own message's echo that comes before its ack is the copy the log keeps.
    ...(frame.attachment ? { attachment: frame.attachment } : {}),
    ...(frame.quick_replies ? { quick_replies: frame.quick_replies } : {}),
  };
  if (!c.logOf(m.thread_id).receive(m)) return;
  c.threads.touch(m.thread_id, m.created_at);
  if (m.sender_type !== "visitor") return;
  c.typing.delete(m.thread_id);
  if (c.viewing(m.thread_id)) {
    c.markRead(m.thread_id); // read where it shows: the agent's other tabs clear it too
    return;
  }
  c.unread.set(m.thread_id, (c.unread.get(m.thread_id) ?? 0) + 1);
  c.attention.alert(m.sender_name || "Visitor", m.content, m.thread_id, () =>
    c.openThread(m.thread_id),
  );
}

/** structures.md "Read state": this agent read a thread elsewhere (another tab or device), or
 * the visitor has seen the thread up to an id ("Seen" under the agent's messages). */
function read(c: Console, frame: Frame<"read">): void {
  if (frame.reader_type === "visitor") c.visitorRead.set(frame.thread_id, frame.id);
  else if (frame.reader_id === c.me?.id) c.unread.delete(frame.thread_id);
  c.changed();
}

function typing(c: Console, frame: Frame<"typing">): void {
  const space = c.threads.get(frame.thread_id)?.space_id;
  // Typing is of the moment: a replayed one is old news.
  if (!space || c.cursors.isReplaying(space) || !c.cursors.accept(space, frame.cursor)) return;
  if (frame.sender_type === "agent") {
    // A colleague (own typing is not sent back): shown in the thread's header.
    const who = c.agents.get(frame.sender_id)?.name ?? "Another agent";
    if (frame.active) {
      c.colleagues.typing(frame.thread_id, frame.sender_id, who, Date.now() + TYPING_SHOWN_MS);
    } else {
      c.colleagues.stopped(frame.thread_id, frame.sender_id);
    }
    return;
  }
  if (!frame.active) {
    c.typing.delete(frame.thread_id);
    return;
  }
  const visitorId = c.threads.get(frame.thread_id)?.visitor_id ?? "";
  const who = visitorLabel(c.visitors.get(visitorId), visitorId);
  // The draft and the plain "typing" come as separate entries in either order (and "typing"
  // again every few seconds): one without a draft keeps the draft shown until the visitor stops.
  const draft = frame.draft ?? c.typing.get(frame.thread_id)?.draft;
  c.typing.set(frame.thread_id, { who, until: Date.now() + TYPING_SHOWN_MS, draft });
}

function presence(c: Console, frame: Frame<"presence">): void {
  const agent = c.agents.get(frame.agent_id);
  if (!agent) {
    void c.loadAgents(); // an agent created since the list was read
    return;
  }
  c.agents.set(agent.id, { ...agent, is_online: frame.online });
}

function ack(c: Console, frame: Frame<"ack">): void {
  if (frame.ref === "message") {
    const me = c.me;
    if (!me) return;
    if (c.logOf(frame.thread_id).ack(frame.client_id, frame.id, frame.created_at, me)) {
      c.threads.touch(frame.thread_id, frame.created_at);
    }
    return;
  }
  if (frame.ref === "read") return; // nothing to show: the badge was cleared when it was sent
  c.threads.upsert(frame.thread as Thread, true);
}

function error(c: Console, frame: Frame<"error">): void {
  const text = frame.message || frame.code;
  if (frame.ref === "subscribe" && frame.space_id) {
    const spaceId = frame.space_id;
    if (frame.code === "not_found") {
      // The space was deleted: its feed has ended for good.
      c.cursors.forget(spaceId);
      c.threads.forgetSpace(spaceId);
      c.colleagues.forgetSpace(spaceId);
      c.setSpaces(c.spaces.filter((s) => s.id !== spaceId));
      if (c.spaceId === spaceId) {
        c.spaceId = null;
        c.pickSpace();
      }
      return;
    }
    if (frame.code === "cursor_expired") {
      // Events were trimmed before we could resume: start the space over from REST.
      c.cursors.forget(spaceId);
      c.subscribedOnce.delete(spaceId);
      c.threads.resetSpace(spaceId);
      for (const log of c.logs.values()) {
        if (c.threads.get(log.threadId)?.space_id === spaceId) log.stale = true;
      }
      subscribe(c, spaceId);
      return;
    }
    setTimeout(() => subscribe(c, spaceId), RESUBSCRIBE_MS + Math.random() * RESUBSCRIBE_MS);
    return;
  }
  if (frame.client_id) {
    for (const log of c.logs.values()) if (log.fail(frame.client_id, text)) return;
    return;
  }
  if (frame.thread_id) {
    c.threadErrors.set(
      frame.thread_id,
      frame.code === "already_claimed" ? "Taken by another agent" : text,
    );
    return;
  }
  if (frame.code !== "invalid") c.notice = text;
}
