// Private notes and tags (README, "Private notes and tags"): each conversation's notes (loaded
// when it opens, then live `note` frames), the organization's tag list (once per sign-in) and
// which tags each conversation carries (from the list rows' tag_ids, then `thread.tags` frames).
// Notes are sent over REST: its answer is the stored note, and the frame that follows dedupes.

import { errorText } from "./api";
import { compareIds, newClientId } from "./protocol";

type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export interface Note {
  id: string;
  thread_id: string;
  author_id: string;
  author_name: string;
  content: string;
  client_id: string;
  created_at: string;
  /** A whisper's addressee (README, "Roles"); null for a note every agent reads. */
  to_agent_id?: string | null;
}

export interface Tag {
  id: string;
  name: string;
  colour: string;
}

export class NotesStore {
  tags: Tag[] = [];
  private notes = new Map<string, Note[]>();
  private threadTags = new Map<string, string[]>();
  error = new Map<string, string>();
  private requested = new Set<string>();

  constructor(
    private readonly api: Api,
    private readonly changed: () => void,
  ) {}

  clear(): void {
    this.tags = [];
    this.notes.clear();
    this.threadTags.clear();
    this.error.clear();
    this.requested.clear();
  }

  async loadTags(): Promise<void> {
    try {
      this.tags = (await this.api<{ items: Tag[] }>("GET", "/tags")).items;
    } catch {
      this.tags = [];
    }
    this.changed();
  }

  tag(id: string): Tag | undefined {
    return this.tags.find((t) => t.id === id);
  }

  notesOf(threadId: string): Note[] {
    if (!this.requested.has(threadId)) {
      this.requested.add(threadId);
      void this.api<{ items: Note[] }>("GET", `/threads/${encodeURIComponent(threadId)}/notes`)
        .then((page) => page.items.forEach((n) => this.add(n)))
        .catch((err: unknown) => this.error.set(threadId, errorText(err)))
        .finally(() => this.changed());
    }
    return this.notes.get(threadId) ?? [];
  }

  /** A note from REST or a frame; kept once, in log order. */
  add(note: Note): void {
    const list = this.notes.get(note.thread_id) ?? [];
    if (list.some((n) => n.id === note.id)) return;
    list.push(note);
    list.sort((a, b) => compareIds(a.id, b.id));
    this.notes.set(note.thread_id, list);
  }

  /** A note, or with `whisper` a whisper to the agent holding the conversation. */
  async write(threadId: string, content: string, whisper = false): Promise<boolean> {
    const text = content.trim();
    if (!text) return false;
    try {
      const body = { client_id: newClientId(), content: text };
      const path = `/threads/${encodeURIComponent(threadId)}/${whisper ? "whisper" : "notes"}`;
      this.add(await this.api<Note>("POST", path, body));
      this.error.delete(threadId);
      return true;
    } catch (err) {
      this.error.set(threadId, errorText(err));
      return false;
    } finally {
      this.changed();
    }
  }

  tagsOf(threadId: string): string[] {
    return this.threadTags.get(threadId) ?? [];
  }

  /** tag_ids of a list row (as projected). */
  seed(threadId: string, tagIds: string[] | undefined): void {
    if (tagIds) this.threadTags.set(threadId, [...tagIds]);
  }

  /** A `thread.tags` frame or this agent's own change. */
  apply(threadId: string, tagId: string, on: boolean): void {
    const now = this.tagsOf(threadId).filter((t) => t !== tagId);
    if (on) now.push(tagId);
    this.threadTags.set(threadId, now);
  }

  async setTag(threadId: string, tagId: string, on: boolean): Promise<void> {
    const path = `/threads/${encodeURIComponent(threadId)}/tags/${encodeURIComponent(tagId)}`;
    try {
      const reply = await this.api<{ tag_ids: string[] }>(on ? "PUT" : "DELETE", path);
      this.threadTags.set(threadId, reply.tag_ids);
      this.error.delete(threadId);
    } catch (err) {
      this.error.set(threadId, errorText(err));
    }
    this.changed();
  }
}
