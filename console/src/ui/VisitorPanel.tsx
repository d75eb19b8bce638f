import type { Console } from "../console";
import type { Thread } from "../protocol";
import { isNewer } from "../threads";
import { visitorLabel } from "../visitors";
import { clock, dateTime, safeHref, STATUS_TEXT } from "./format";

export function VisitorPanel({ c, thread }: { c: Console; thread: Thread }) {
  const v = c.visitors.get(thread.visitor_id);
  const detail = c.visitors.details.get(thread.visitor_id);
  // The detail is read from PostgreSQL; a thread also known live may be further along.
  const earlier = (detail?.threads ?? [])
    .filter((t) => t.id !== thread.id)
    .map((t) => {
      const known = c.threads.get(t.id);
      return known && isNewer(known, t, true) ? known : t;
    });
  const href = safeHref(v?.current_url);
  // structures.md "Visitor context": the host page's word, shown as unverified.
  const ctx = detail?.context;
  const attributes = Object.entries(ctx?.attributes ?? {});
  const pages = ctx?.pages ?? [];
  // Verified by a signed identity token (structures.md "Signed visitor identity"): live from a
  // visitor.updated frame, or from the panel's read of PostgreSQL.
  const verifiedAs = v?.external_id || (ctx?.verified ? ctx.external_id : null);
  return (
    <aside class="visitor-panel" data-part="visitor-panel" aria-label="Visitor">
      <h3>Visitor</h3>
      <dl>
        <dt>Name</dt>
        <dd data-part="visitor-panel-name">{v?.name || visitorLabel(v, thread.visitor_id)}</dd>
        <dt>Email</dt>
        <dd data-part="visitor-panel-email">{v?.email || "Not given"}</dd>
        <dt>Current page</dt>
        <dd data-part="visitor-panel-page" class="url">
          {href ? (
            <a href={href} target="_blank" rel="noopener noreferrer">
              {v?.current_url}
            </a>
          ) : (
            v?.current_url || "Unknown"
          )}
        </dd>
        <dt>Identity</dt>
        <dd data-part="visitor-panel-identity" class={verifiedAs ? "verified" : undefined}>
          {verifiedAs ? `Verified: ${verifiedAs}` : "Not verified"}
        </dd>
        <dt>First seen</dt>
        <dd data-part="visitor-panel-first-seen">{dateTime(v?.created_at)}</dd>
        {ctx ? (
          <>
            <dt>Browser</dt>
            <dd data-part="visitor-panel-browser">
              {[ctx.browser, ctx.os].filter(Boolean).join(" on ") || "Unknown"}
            </dd>
            <dt>Language, time zone</dt>
            <dd data-part="visitor-panel-locale">
              {[ctx.locale, ctx.timezone].filter(Boolean).join(", ") || "Unknown"}
            </dd>
          </>
        ) : null}
      </dl>
      {attributes.length > 0 ? (
        <>
          <h4>
            Attributes <span class="hint">(from the site, unverified)</span>
          </h4>
          <dl class="attributes" data-part="visitor-attributes">
            {attributes.map(([key, value]) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>{value === null ? "—" : String(value)}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : null}
      {pages.length > 0 ? (
        <>
          <h4>Pages visited</h4>
          <ol class="pages" data-part="visitor-pages">
            {pages.map((p) => (
              <li key={p.at + p.url} class="url">
                <time dateTime={p.at}>{clock(p.at)}</time> {p.title || p.url}
              </li>
            ))}
          </ol>
        </>
      ) : null}
      <h4>Earlier conversations</h4>
      <ul class="earlier" data-part="earlier-threads">
        {detail?.state === "loading" && earlier.length === 0 ? (
          <li class="hint">Loading…</li>
        ) : null}
        {detail?.state === "partial" ? <li class="hint">Not available.</li> : null}
        {detail?.state === "error" ? <li class="error">{detail.error}</li> : null}
        {detail?.state === "ok" && earlier.length === 0 ? <li class="hint">None.</li> : null}
        {earlier.map((t) => (
          <li key={t.id}>
            <button
              type="button"
              class="link"
              data-part="earlier-thread"
              data-thread-id={t.id}
              onClick={() => c.openThread(t.id)}
            >
              {dateTime(t.created_at)} · {STATUS_TEXT[t.status] ?? t.status}
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}
