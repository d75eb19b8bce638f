// Where the widget was embedded from: its own <script> tag names the widget key, and its src
// names the service (the REST and WebSocket URLs derive from that origin).

export interface Embed {
  key: string;
  /** The service's origin, e.g. https://chat.example.com */
  http: string;
  /** The same origin with ws: or wss: */
  ws: string;
  /** The script tag's nonce (a CSP with nonces): lazy chunks carry it too. */
  nonce: string;
  /** `data-preview`: the console's appearance preview, which never connects. */
  preview?: boolean;
}

// `/widget.js` or the content-hashed `/widget.<hash>.js`.
const BUNDLE_PATH = /\/widget(\.[\w-]+)?\.js$/;

function ownScript(): HTMLScriptElement | null {
  // Set while this script runs (async classic scripts too); null in later callbacks.
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.dataset.widgetKey) return current;
  for (const s of document.querySelectorAll<HTMLScriptElement>("script[data-widget-key]")) {
    if (s.src && BUNDLE_PATH.test(new URL(s.src, location.href).pathname)) return s;
  }
  return null;
}

export function findEmbed(): Embed | null {
  const script = ownScript();
  const key = script?.dataset.widgetKey?.trim();
  if (!script || !key || !script.src) return null;
  const url = new URL(script.src, location.href);
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  return {
    key,
    http: url.origin,
    ws: url.origin.replace(/^http/, "ws"),
    nonce: script.nonce ?? "",
    preview: script.hasAttribute("data-preview"),
  };
}

// localStorage can be missing or throw (disabled storage, sandboxed frames): then every page
// load is a new visitor, which is all the server needs.
export function load(name: string): string | null {
  try {
    return localStorage.getItem(name);
  } catch {
    return null;
  }
}

export function save(name: string, value: string): void {
  try {
    localStorage.setItem(name, value);
  } catch {
    // see load()
  }
}
