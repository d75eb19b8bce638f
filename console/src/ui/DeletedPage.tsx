import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Thread } from "../protocol";
import { clock } from "./format";

/** Admins: the soft-deleted conversations of each space, most recently deleted first, each
 * restorable (GET /spaces/{id}/deleted-threads, POST /threads/{id}/restore). */
export function DeletedPage({ c }: { c: Console }) {
  const [items, setItems] = useState<Thread[] | null>(null);
  const [error, setError] = useState("");
  const load = async () => {
    const found: Thread[] = [];
    for (const space of c.spaces) {
      const path = `/spaces/${encodeURIComponent(space.id)}/deleted-threads?limit=200`;
      found.push(...(await c.auth.api<{ items: Thread[] }>("GET", path)).items);
    }
    setItems(found);
  };
  useEffect(() => {
    load().catch((err: unknown) => setError(errorText(err)));
  }, [c.spaces.length]);
  const restore = (id: string) => {
    setError("");
    c.auth
      .api<null>("POST", `/threads/${encodeURIComponent(id)}/restore`)
      .then(() => setItems((now) => (now ?? []).filter((t) => t.id !== id)))
      .catch((err: unknown) => setError(errorText(err)));
  };
  return (
    <section class="page" data-part="deleted-page">
      <h2>Deleted conversations</h2>
      <p class="hint">Deleted conversations are out of every list and export until restored.</p>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p data-part="deleted-empty">No deleted conversations.</p>
      ) : (
        <ul class="deleted-list">
          {items.map((t) => (
            <li key={t.id} data-part="deleted-thread" data-thread-id={t.id}>
              <span>
                {c.spaceName(t.space_id)} · started {clock(t.created_at)} · deleted{" "}
                {clock(t.deleted_at)}
              </span>
              <button type="button" data-part="restore" onClick={() => restore(t.id)}>
                Restore
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
