// The bubble and the window's box, drawn by the main bundle whether or not the window chunk
// (src/lazy/app.tsx) has arrived: the window holds the chunk's contents, or its placeholder or
// retry. One component for both, so the bubble stays the same DOM node when the chunk arrives
// (a click whose pointerdown came before would otherwise be lost). Pointing at or focusing the
// bubble is the intent that starts the load (src/mount.tsx). Once the contents are here the
// window stays in the DOM while closed (hidden), keeping the composer's draft and the scroll.

import type { ComponentChildren } from "preact";
import type { Chat } from "./chat";
import { t } from "./i18n";
import { ChatIcon } from "./ui/icons";

export function Launcher({
  chat,
  intent,
  loaded,
  children,
}: {
  chat: Chat;
  intent: () => void;
  loaded: boolean;
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
      {(s.open || loaded) && (
        <div
          class="window"
          data-part="window"
          role="dialog"
          aria-label={t("chatWith", { name: s.name })}
          hidden={!s.open}
          onKeyDown={(event) => {
            if (event.key === "Escape") {
              event.stopPropagation();
              chat.close();
            }
          }}
        >
          {children}
        </div>
      )}
    </>
  );
}
