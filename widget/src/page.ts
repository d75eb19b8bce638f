// The page the visitor is on: a `page` frame after each connect and each navigation, including
// single-page apps' history.pushState / replaceState and back/forward (popstate).

import type { ClientFrame } from "./protocol";

const MIN_INTERVAL_MS = 1000;
const MAX_URL = 2048;
const MAX_TITLE = 300;

/**
 * A throttled reporter: at most one frame a second, and always one after the last call
 * (trailing), so the server ends up with the page the visitor is actually on.
 */
export function pageReporter(
  send: (frame: ClientFrame) => boolean,
  title: () => string,
): () => void {
  let sentAt = -MIN_INTERVAL_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer !== undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        sentAt = Date.now();
        send({
          type: "page",
          url: location.href.slice(0, MAX_URL),
          title: title().slice(0, MAX_TITLE),
          // For the agent's visitor panel (structures.md "Visitor context").
          locale: navigator.language || undefined,
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || undefined,
        });
      },
      Math.max(0, sentAt + MIN_INTERVAL_MS - Date.now()),
    );
  };
}

/** Call `report` after every history change; the originals keep their `this`, arguments and
 * return value, and an error of theirs still reaches their caller. */
export function watchNavigation(report: () => void): void {
  for (const name of ["pushState", "replaceState"] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History["pushState"]>) {
      const result = original.apply(this, args);
      try {
        report();
      } catch {
        // never break the host page's navigation
      }
      return result;
    };
  }
  addEventListener("popstate", report);
}
