// Search (GET /api/v1/search): the shapes the route answers and the request. Snippets arrive
// as plain-text fragments; the UI renders each as text (a match in <mark>), never as markup.

export interface Fragment {
  text: string;
  match: boolean;
}

export interface MessageHit {
  message: { id: string; thread_id: string; sender_name: string; created_at: string };
  space_id: string;
  visitor_name: string | null;
  snippet: Fragment[];
}

export interface VisitorHit {
  visitor: { id: string; name: string | null; email: string | null };
  latest_thread_id: string | null;
  snippet: Fragment[];
}

export type SearchKind = "messages" | "visitors";

export interface SearchPage {
  kind: SearchKind;
  items: (MessageHit | VisitorHit)[];
  next_cursor: string | null;
}

// The route refuses longer queries (422); the input stops there.
export const MAX_QUERY_CHARS = 200;

export function searchPath(q: string, kind: SearchKind, cursor: string | null): string {
  const params = new URLSearchParams({ q, kind, limit: "20" });
  if (cursor) params.set("cursor", cursor);
  return `/search?${params.toString()}`;
}

/** The conversation a hit opens, if any. */
export function hitThread(hit: MessageHit | VisitorHit): string | null {
  return "message" in hit ? hit.message.thread_id : hit.latest_thread_id;
}
