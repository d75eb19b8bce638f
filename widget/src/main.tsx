// Entry: `<script src="https://HOST/widget.js" data-widget-key="KEY" async></script>`.
// Defines window.ChatWidget and nothing else global; never lets an error reach the host page.

import { Chat, type Identity } from "./chat";
import { findEmbed } from "./embed";
import { mount } from "./mount";
import css from "./styles.css?inline";

type Listener = (value?: unknown) => void;

export interface ChatWidgetApi {
  open(): void;
  close(): void;
  toggle(): void;
  identify(who: Identity): void;
  /** Events: "message" (a message), "open", "close", "unread" (a count). */
  on(event: string, fn: Listener): () => void;
}

declare global {
  interface Window {
    ChatWidget?: ChatWidgetApi;
  }
}

function guarded<A extends unknown[], R>(fn: (...args: A) => R, fallback: R) {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch {
      return fallback;
    }
  };
}

function boot(): void {
  if (window.ChatWidget) return; // the script tag twice on one page
  const embed = findEmbed();
  if (!embed) return;
  const chat = new Chat(embed);
  window.ChatWidget = Object.freeze({
    open: guarded(() => chat.open(), undefined),
    close: guarded(() => chat.close(), undefined),
    toggle: guarded(() => chat.toggle(), undefined),
    identify: guarded((who: Identity) => chat.identify(who), undefined),
    on: guarded(
      (event: string, fn: Listener) =>
        typeof fn === "function" ? chat.events.on(String(event), fn) : () => {},
      () => {},
    ),
  });
  chat.start();
  const show = guarded(() => mount(chat, css, embed), undefined);
  if (document.body) show();
  else document.addEventListener("DOMContentLoaded", show, { once: true });
}

guarded(boot, undefined)();
