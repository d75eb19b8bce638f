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
import { rtl } from "./i18n";
import type { Embed } from "./embed";
import { Launcher } from "./launcher";
import { configureLazy, fetchChunk, Pending } from "./lazy";
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

export function mount(chat: Chat, css: string, embed: Embed): void {
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
  // The window chunk is wanted once the visitor opens the chat, points at or focuses the
  // bubble, or has an unread message (then opening is likely).
  let wanted = false;
  const want = () => {
    if (!wanted) schedule((wanted = true));
  };
  const draw = () => {
    queued = false;
    try {
      const s = chat.state;
      wanted ||= s.open || s.unread > 0;
      const app = wanted ? fetchChunk("app").module : undefined;
      // Shown once the key is known to work; gone for good when it stops working (unless the
      // visitor is reading the window right now).
      host.hidden = !s.ready || (s.stopped && !s.open);
      if (s.color !== color) accent(`.root{--accent:${(color = s.color)}}`);
      // The language's direction lays out the window (styles.css uses logical properties).
      root.lang = s.lang;
      root.dir = rtl(s.lang) ? "rtl" : "ltr";
      root.classList.toggle("left", s.left); // settings.position (structures.md "Appearance")
      const list = find("messages");
      const follow = !list || list.scrollHeight - list.scrollTop - list.clientHeight < STICK_PX;
      // The chunk's arrival replaces the launcher's bubble with the window's: focus follows.
      const focused = shadow.activeElement?.getAttribute("data-part");
      render(
        <Launcher chat={chat} intent={want} loaded={!!app}>
          {app ? <app.default chat={chat} /> : <Pending name="app" />}
        </Launcher>,
        root,
      );
      if (focused && !shadow.activeElement) find(focused)?.focus();
      if (follow) toEnd();
      if (focusPending && s.open && app) {
        focusPending = false;
        toEnd();
        const prechat = shadow.querySelector<HTMLElement>("[data-part=prechat] input");
        (find("input") ?? find("new-conversation") ?? prechat ?? find("close"))?.focus();
      }
    } catch {
      host.hidden = true; // a bug of ours: hide rather than show something broken
    }
  };
  // Opening focuses the input once the window is drawn (with the chunk, maybe later).
  let focusPending = false;
  function schedule(_?: unknown) {
    if (!queued) {
      queued = true;
      queueMicrotask(draw);
    }
  }
  chat.subscribe(schedule);
  // A lazy chunk's CSS goes in before its component first renders; its arrival redraws.
  configureLazy(embed, (text) => stylesheet(shadow, text), schedule);
  draw();

  chat.events.on("open", () => schedule((focusPending = true)));
  chat.events.on("close", () => {
    if (shadow.activeElement) queueMicrotask(() => find("bubble")?.focus());
  });
}
