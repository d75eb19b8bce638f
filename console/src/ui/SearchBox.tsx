import { useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import {
  type Fragment,
  hitThread,
  MAX_QUERY_CHARS,
  type MessageHit,
  type SearchKind,
  type SearchPage,
  searchPath,
  type VisitorHit,
} from "../search";

/** Fragments as text nodes, matches in <mark>: user text is never parsed as HTML. */
function Snippet({ fragments }: { fragments: Fragment[] }) {
  return (
    <span class="search-snippet">
      {fragments.map((f, i) => (f.match ? <mark key={i}>{f.text}</mark> : f.text))}
    </span>
  );
}

function hitTitle(hit: MessageHit | VisitorHit): string {
  if ("message" in hit) return `${hit.visitor_name ?? "Visitor"} · ${hit.message.sender_name}`;
  return hit.visitor.name ?? hit.visitor.email ?? "Visitor";
}

/** The top bar's search: messages or visitors of the organization, a click opens the
 * conversation. Results page with "More" (the route's cursor). */
export function SearchBox({ c }: { c: Console }) {
  const [q, setQ] = useState("");
  const [kind, setKind] = useState<SearchKind>("messages");
  const [hits, setHits] = useState<(MessageHit | VisitorHit)[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const run = async (cursor: string | null) => {
    const text = q.trim();
    if (!text) return;
    setBusy(true);
    setError("");
    try {
      const page = await c.auth.api<SearchPage>("GET", searchPath(text, kind, cursor));
      setHits(cursor ? [...(hits ?? []), ...page.items] : page.items);
      setNext(page.next_cursor);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setHits(null);
    setNext(null);
    setError("");
  };

  return (
    <div class="search" data-part="search">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void run(null);
        }}
      >
        <input
          type="search"
          data-part="search-input"
          aria-label="Search messages and visitors"
          placeholder="Search"
          maxLength={MAX_QUERY_CHARS}
          value={q}
          onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") close();
          }}
        />
        <select
          data-part="search-kind"
          aria-label="Search in"
          value={kind}
          onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as SearchKind)}
        >
          <option value="messages">Messages</option>
          <option value="visitors">Visitors</option>
        </select>
      </form>
      {hits !== null || error ? (
        <div class="search-results" data-part="search-results">
          {error ? (
            <p class="error small" role="alert">
              {error}
            </p>
          ) : null}
          {hits !== null && hits.length === 0 ? <p class="small">No matches</p> : null}
          <ul>
            {(hits ?? []).map((hit) => {
              const thread = hitThread(hit);
              const key = "message" in hit ? hit.message.id + hit.message.thread_id : hit.visitor.id;
              return (
                <li key={key}>
                  <button
                    type="button"
                    class="search-hit"
                    data-part="search-hit"
                    disabled={!thread}
                    onClick={() => {
                      if (!thread) return;
                      close();
                      c.openThread(thread);
                    }}
                  >
                    <span class="search-hit-title">{hitTitle(hit)}</span>
                    <Snippet fragments={hit.snippet} />
                  </button>
                </li>
              );
            })}
          </ul>
          {next ? (
            <button type="button" class="quiet" disabled={busy} onClick={() => void run(next)}>
              More
            </button>
          ) : null}
          <button type="button" class="quiet" onClick={close}>
            Close
          </button>
        </div>
      ) : null}
    </div>
  );
}
