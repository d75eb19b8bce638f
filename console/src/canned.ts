// Canned responses: the list the agent may use (loaded once per sign-in, again after an edit),
// the "/shortcut" trigger in the composer, the filter, and placeholder expansion. The server
// stores content as written; placeholders are expanded here, when a response is inserted, from
// what the console knows of the conversation (README, "Canned responses").

import { errorText } from "./api";

export type CannedScope = "organization" | "personal";

export interface CannedResponse {
  id: string;
  organization_id: string;
  scope: CannedScope;
  owner_agent_id: string | null;
  shortcut: string;
  title: string;
  content: string;
  created_at: string;
  updated_at: string;
}

/** What placeholders expand to; null where the console does not know it. */
export interface PlaceholderValues {
  visitorName: string | null;
  visitorEmail: string | null;
  agentName: string | null;
  spaceName: string | null;
}

// The placeholders, as documented (README): {{name}} or {{name|fallback when unknown}}.
export const PLACEHOLDERS: Record<string, (v: PlaceholderValues) => string | null> = {
  "visitor.name": (v) => v.visitorName,
  "visitor.first_name": (v) => firstName(v.visitorName),
  "visitor.email": (v) => v.visitorEmail,
  "agent.name": (v) => v.agentName,
  "agent.first_name": (v) => firstName(v.agentName),
  "space.name": (v) => v.spaceName,
};

// Shown in the picker at most; more matches are reached by typing more of the shortcut.
export const MAX_SHOWN = 20;
// A shortcut is at most 32 characters (the server's limit): a longer word is not a trigger.
const MAX_SHORTCUT = 32;
const PLACEHOLDER = /\{\{\s*([a-z_]+\.[a-z_]+)\s*(?:\|([^{}]*))?\}\}/g;

function firstName(name: string | null): string | null {
  const first = name?.trim().split(/\s+/)[0];
  return first || null;
}

/** `content` with each known placeholder replaced by its value, else its fallback, else
 * nothing. Unknown names (a typo, a newer placeholder) stay as written, so they are seen. */
export function expandPlaceholders(content: string, values: PlaceholderValues): string {
  return content.replace(PLACEHOLDER, (whole, name: string, fallback: string | undefined) => {
    const read = PLACEHOLDERS[name];
    if (!read) return whole;
    const value = read(values)?.trim();
    return value || (fallback ?? "").trim();
  });
}

export interface SlashQuery {
  /** Where the "/" is in the text. */
  start: number;
  /** What follows it up to the caret (lowercased). */
  query: string;
}

/** The "/word" the caret ends, when the "/" starts the text or follows whitespace. */
export function slashQuery(text: string, caret: number): SlashQuery | null {
  let start = caret;
  while (start > 0 && !/\s/.test(text[start - 1] ?? "")) start--;
  const word = text.slice(start, caret);
  if (!word.startsWith("/") || word.length > MAX_SHORTCUT + 1) return null;
  const query = word.slice(1).toLowerCase();
  return /^[a-z0-9_-]*$/.test(query) ? { start, query } : null;
}

/** The responses matching a query: shortcut prefixes first, then titles with a word starting
 * with it; each group in the list's order. */
export function filterCanned(list: CannedResponse[], query: string): CannedResponse[] {
  const q = query.toLowerCase();
  const byShortcut = list.filter((r) => r.shortcut.startsWith(q));
  const byTitle = list.filter(
    (r) =>
      !r.shortcut.startsWith(q) &&
      r.title
        .toLowerCase()
        .split(/\s+/)
        .some((word) => word.startsWith(q)),
  );
  return [...byShortcut, ...byTitle].slice(0, MAX_SHOWN);
}

/** The text with the "/query" (from `start` to `caret`) replaced by `inserted`, and where the
 * caret goes: just after it. */
export function insertAt(
  text: string,
  start: number,
  caret: number,
  inserted: string,
): { text: string; caret: number } {
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

type Api = <T>(method: string, path: string) => Promise<T>;

/** The responses the agent may use: loaded once per sign-in, and again after an edit. */
export class CannedStore {
  items: CannedResponse[] = [];
  loaded = false;
  error = "";
  private loading: Promise<void> | null = null;
  // Bumped by clear(): an answer for a sign-in that has ended is dropped.
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly changed: () => void,
  ) {}

  /** GET /canned-responses (one request at a time); a failure leaves the list as it was. */
  load(): Promise<void> {
    const generation = this.generation;
    this.loading ??= this.api<{ items: CannedResponse[] }>("GET", "/canned-responses")
      .then(
        (page) => {
          if (generation !== this.generation) return;
          this.items = page.items;
          this.loaded = true;
          this.error = "";
        },
        (err: unknown) => {
          if (generation === this.generation) this.error = errorText(err);
        },
      )
      .finally(() => {
        this.loading = null;
        this.changed();
      });
    return this.loading;
  }

  /** Load unless loaded (the picker asks again after a failure). */
  ensure(): void {
    if (!this.loaded && !this.loading) void this.load();
  }

  clear(): void {
    this.generation++;
    this.loading = null;
    this.items = [];
    this.loaded = false;
    this.error = "";
  }
}
