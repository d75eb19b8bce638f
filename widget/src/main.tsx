// Entry: `<script src="https://HOST/widget.js" data-widget-key="KEY" async></script>`.
// Defines window.ChatWidget and nothing else global; never lets an error reach the host page.

import { Chat, type Identity } from "./chat";
import { findEmbed } from "./embed";
import { mount } from "./mount";
import type { WidgetConfig } from "./protocol";
import css from "./styles.css?inline";

type Listener = (value?: unknown) => void;

export interface ChatWidgetApi {
  open(): void;
  close(): void;
  toggle(): void;
  identify(who: Identity): void;
  /** Speak this language (a code such as "de" or "pt-BR"); "auto" returns to the space's
   * setting and the browser's languages. */
  setLocale(code: string): void;
  /** Events: "message" (a message), "open", "close", "unread" (a count). */
  on(event: string, fn: Listener): () => void;
}

declare global {
  interface Window {
    ChatWidget?: ChatWidgetApi;
  }
}

type Preview = ChatWidgetApi & { preview?(config: WidgetConfig): void };

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
  const api: Preview = {
    open: guarded(() => chat.open(), undefined),
    close: guarded(() => chat.close(), undefined),
    toggle: guarded(() => chat.toggle(), undefined),
    identify: guarded((who: Identity) => chat.identify(who), undefined),
    setLocale: guarded((code: string) => {
      chat.language.fixed = code === "auto" ? "" : String(code ?? "");
      chat.language.choose();
    }, undefined),
    on: guarded(
      (event: string, fn: Listener) =>
        typeof fn === "function" ? chat.events.on(String(event), fn) : () => {},
      () => {},
    ),
  };
  // The console's preview page (chat/static/widget-preview.html): no connection, no visitor;
  // the console hands it unsaved settings through ChatWidget.preview.
  if (embed.preview) api.preview = guarded((config: WidgetConfig) => chat.showPreview(config), undefined);
  window.ChatWidget = Object.freeze(api);
  if (!embed.preview) chat.start();
  const show = guarded(() => mount(chat, css, embed), undefined);
  if (document.body) show();
  else document.addEventListener("DOMContentLoaded", show, { once: true });
}

guarded(boot, undefined)();
