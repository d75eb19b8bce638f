// The host element and its shadow root. Styles are adopted stylesheets: a <style> element in
// the shadow root would be blocked by a host page CSP without 'unsafe-inline' for styles
// (used only where adoptedStyleSheets is missing: older Safari).
//
// Where it lives (README "Host pages"): a child of <html>, after <body>, so a transform, filter,
// perspective or contain on the host's <body> (page-transition libraries) does not become the
// containing block of our position:fixed parts; and in the top layer (a manual popover) where
// the Popover API exists, above any z-index and outside any transformed ancestor, <html>'s too.

import { render } from "preact";
import type { Chat } from "./chat";
import { App } from "./ui/App";
import { fitViewport } from "./viewport";

// A list scrolled to within this many pixels of its end follows new messages.
const STICK_PX = 48;

function stylesheet(root: ShadowRoot, css: string): (css: string) => void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return (text) => sheet.replaceSync(text);
  } catch {
    const style = document.createElement("style");
    style.textContent = css;
    root.append(style);
    return (text) => {
      style.textContent = text;
    };
  }
}

export function mount(chat: Chat, css: string): void {
  const host = document.createElement("div");
  host.id = "chat-widget";
  host.hidden = true;
  const shadow = host.attachShadow({ mode: "open" });
  stylesheet(shadow, css);
  const accent = stylesheet(shadow, "");
  const root = document.createElement("div");
  root.className = "root";
  shadow.append(root);
  document.documentElement.append(host);
  try {
    if (host.showPopover) {
      host.popover = "manual"; // no light dismiss: only the widget closes its window
      host.showPopover();
    }
  } catch {
    // no top layer: z-index and the place after <body> (styles.css :host)
  }
  fitViewport(root);

  const find = (part: string) => shadow.querySelector<HTMLElement>(`[data-part=${part}]`);
  const toEnd = () => {
    const list = find("messages");
    if (list) list.scrollTop = list.scrollHeight;
  };
  let color = "";
  let queued = false;
  const draw = () => {
    queued = false;
    try {
      const s = chat.state;
      // Shown once the key is known to work; gone for good when it stops working (unless the
      // visitor is reading the window right now).
      host.hidden = !s.ready || (s.stopped && !s.open);
      if (s.color !== color) accent(`.root{--accent:${(color = s.color)}}`);
      const list = find("messages");
      const follow = !list || list.scrollHeight - list.scrollTop - list.clientHeight < STICK_PX;
      render(<App chat={chat} />, root);
      if (follow) toEnd();
    } catch {
      host.hidden = true; // a bug of ours: hide rather than show something broken
    }
  };
  chat.subscribe(() => {
    if (!queued) {
      queued = true;
      queueMicrotask(draw);
    }
  });
  draw();

  // Listeners run after the state change queued its draw, so these run after the render.
  chat.events.on("open", () =>
    queueMicrotask(() => {
      toEnd();
      (find("input") ?? find("new-conversation") ?? shadow.querySelector<HTMLElement>("[data-part=prechat] input") ?? find("close"))?.focus();
    }),
  );
  chat.events.on("close", () => {
    if (shadow.activeElement) queueMicrotask(() => find("bubble")?.focus());
  });
}
