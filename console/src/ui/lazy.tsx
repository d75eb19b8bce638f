// Pages built into chunks of their own (vite.config.ts, README "What loads when"): a chunk is
// fetched (a dynamic import() of a same-origin ES module, which the CSP allows) the first time
// one of its pages shows, and kept for the rest of the visit. Meanwhile a placeholder shows;
// a failed fetch (offline, a deploy removed the file) shows Retry rather than a blank page.
//
// Retry reloads the console rather than calling import() again: Chromium keeps a failed
// import() in the document's module map, so the same URL fails again at once, without a
// request. A reload starts a new module map and fetches the current console.js, which names
// the current build's chunks (after a deploy, the old names are gone); the address keeps the
// page (#/groups), the tokens keep the sign-in.

import type { ComponentChild } from "preact";
import { useEffect } from "preact/hooks";
import type { Console } from "../console";
import { t } from "../i18n";

/** One chunk: its module once loaded, whether the last try failed, and how to load it. */
export class Chunk<M> {
  module: M | null = null;
  failed = false;
  private loading: Promise<void> | null = null;

  constructor(private readonly importer: () => Promise<M>) {}

  /** Fetches the chunk (one request however many pages ask at once); a failure is kept in
   * `failed`, so a broken chunk is not asked for again on every render. */
  load(): Promise<void> {
    if (this.failed) return Promise.resolve();
    this.loading ??= this.importer().then(
      (module) => {
        this.module = module;
      },
      () => {
        this.failed = true;
        this.loading = null;
      },
    );
    return this.loading;
  }
}

/** `page(module)` once `chunk` has loaded; until then "Loading…", or the failure and Retry.
 * Re-renders the console (c.changed()) when the fetch settles. */
export function LazyPage<M>({
  c,
  chunk,
  page,
}: {
  c: Console;
  chunk: Chunk<M>;
  page: (module: M) => ComponentChild;
}) {
  const module = chunk.module;
  useEffect(() => {
    if (!chunk.module) void chunk.load().then(() => c.changed());
  }, [chunk]);
  if (module) return <>{page(module)}</>;
  if (chunk.failed) {
    return (
      <main class="admin" data-part="page-failed">
        <p class="error" role="alert">
          {t("pageFailed")}
        </p>
        <button type="button" data-part="page-retry" onClick={() => location.reload()}>
          {t("retry")}
        </button>
      </main>
    );
  }
  return (
    <main class="admin" data-part="page-loading" aria-busy="true">
      <p class="hint">{t("loading")}</p>
    </main>
  );
}
