// What the main bundle draws until the window chunk (src/lazy/app.tsx) has arrived: the same
// bubble as ui/App.tsx's (the DOM contract: a visitor who never opens the chat never loads the
// window), and after a click, the window holding the chunk's placeholder or retry. Pointing at
// or focusing the bubble is the intent that starts the load (src/mount.tsx).

import type { ComponentChildren } from "preact";
import type { Chat } from "./chat";
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
        aria-label={s.open ? "Close chat" : "Open chat"}
        aria-expanded={s.open}
        aria-haspopup="dialog"
        onClick={() => chat.toggle()}
        onPointerEnter={intent}
        onFocus={intent}
      >
        <ChatIcon />
        <span class="badge" data-part="unread" aria-label={`${s.unread} unread`} hidden={!s.unread}>
          {s.unread}
        </span>
      </button>
      {s.open && (
        <div class="window" data-part="window" role="dialog" aria-label={`Chat with ${s.name}`}>
          {children}
        </div>
      )}
    </>
  );
}
