// GET {service}/api/v1/widget/{key}/config: the space's name and settings for the window, and
// the one way to learn why a WebSocket handshake failed (a browser hides its HTTP status).

import type { Embed } from "./embed";
import type { WidgetConfig } from "./protocol";

/**
 * - ok: the key and this origin are accepted (the body is the config);
 * - gone: the key is unknown (404) or this origin is refused (403): never retry;
 * - refused: the service answered, but not readably (a proxy's error page without CORS headers
 *   reads the same as a 503): retry, a few times;
 * - down: no answer at all: retry.
 */
export type Verdict = "ok" | "gone" | "refused" | "down";

/** `fresh`: skip the HTTP cache (the answer is cached 30 s; a probe must see a revoked key). */
export async function fetchConfig(embed: Embed, fresh = false): Promise<[Verdict, WidgetConfig?]> {
  const url = `${embed.http}/api/v1/widget/${encodeURIComponent(embed.key)}/config`;
  const cache = fresh ? "no-store" : "default";
  try {
    const answer = await fetch(url, { credentials: "omit", cache });
    if (answer.ok) return ["ok", (await answer.json()) as WidgetConfig];
    // The service echoes the page's origin on its 403 and 404 too, so they are readable here.
    if (answer.status === 404 || answer.status === 403) {
      explainRefusal(answer.status, embed.key);
      return ["gone"];
    }
    return ["refused"];
  } catch {
    // Unreadable (CORS) or unreachable: an opaque request tells the two apart.
  }
  try {
    await fetch(url, { mode: "no-cors", credentials: "omit", cache });
    return ["refused"];
  } catch {
    return ["down"];
  }
}

let explained = false;

/** One line in the host page's developer console saying why the widget stays away: the site's
 * developer sees the page's origin and the setting to change, instead of a silent widget. */
function explainRefusal(status: number, key: string): void {
  if (explained) return;
  explained = true;
  console.warn(
    status === 403
      ? `chat widget: ${location.origin} is not allowed: add it to the "Allowed domains" of` +
          ` widget key ${key} (agent console, Spaces)`
      : `chat widget: widget key ${key} is unknown (deleted or rotated; agent console, Spaces)`,
  );
}
