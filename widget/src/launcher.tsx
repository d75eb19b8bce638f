// What the main bundle draws until the window chunk (src/lazy/app.tsx) has arrived: the same
// bubble as ui/App.tsx's (the DOM contract: a visitor who never opens the chat never loads the
// window), and after a click, the window holding the chunk's placeholder or retry. Pointing at
// or focusing the bubble is the intent that starts the load (src/mount.tsx).

import type { ComponentChildren } from "preact";
import type { Chat } from "./chat";
import { t } from "./i18n";
import { ChatIcon } from "./ui/icons";

export function Launcher({
  chat,
  intent,
  children,
}: {
  chat: Chat;
  intent: () => void;
  children?: ComponentChildren;
}) {
  const s = chat.state;
  return (
    <>
      <button
        type="button"
        class="bubble"
        data-part="bubble"
        aria-label={t(s.open ? "close" : "open")}
        aria-expanded={s.open}
        aria-haspopup="dialog"
        onClick={() => chat.toggle()}
        onPointerEnter={intent}
        onFocus={intent}
      >
        <ChatIcon />
        {s.label && !s.open && (
          <span class="label" data-part="launcher-label">
            {s.label}
          </span>
        )}
        <span class="badge" data-part="unread" aria-label={t("unread", { n: s.unread })} hidden={!s.unread}>
          {s.unread}
        </span>
      </button>
      {s.open && (
        <div class="window" data-part="window" role="dialog" aria-label={t("chatWith", { name: s.name })}>
          {children}
        </div>
      )}
    </>
  );
}
