// The message list. Every text (content, names) is a Preact text node: markup in a message
// shows as typed, never parsed; http(s) and mailto links in it are <a> elements, and no other
// scheme (frontend/shared/linkify.ts). A message's file shows as a thumbnail (images) or a
// download link named after the file, through a signed link; both open in a new tab without an
// opener.

import { linkify } from "@chat/shared/linkify";
import type { Chat, State } from "../chat";
import type { Message } from "../messages";
import { language, t } from "../i18n";
import { lazy } from "../lazy";
import type { RepliesProps } from "../lazy/replies";
import { type Attachment, compareIds } from "../protocol";

// Quick replies, an inner chunk (src/lazy/replies.tsx): fetched when a message with buttons shows.
const Replies = lazy<RepliesProps>("replies");

// Times as the widget's language writes them (English: as the browser's own locale does).
let clockLang = "";
let CLOCK: Intl.DateTimeFormat;

function clock(iso: string): string {
  const date = new Date(iso);
  if (clockLang !== language()) {
    clockLang = language();
    CLOCK = new Intl.DateTimeFormat(clockLang === "en" ? undefined : clockLang, { hour: "2-digit", minute: "2-digit" });
  }
  return Number.isNaN(date.getTime()) ? "" : CLOCK.format(date);
}

/** A message's text with its links clickable: a new tab, no opener, no referrer, no endorsement. */
const linked = (text: string) =>
  linkify(text).map((part) =>
    typeof part === "string" ? (
      part
    ) : (
      <a class="url" data-part="link" href={part.href} target="_blank" rel="noopener noreferrer nofollow">
        {part.text}
      </a>
    ),
  );

function FileLink({ a, chat }: { a: Attachment; chat: Chat }) {
  const url = chat.fileLink(a.id);
  const image = a.content_type.startsWith("image/");
  return (
    <a
      class="file"
      data-part="attachment"
      href={url}
      target="_blank"
      rel="noopener noreferrer"
      onClick={(event) => url && chat.openFile(a.id) && event.preventDefault()}
    >
      {image && url ? <img class="thumb" data-part="thumbnail" src={url} alt={a.name} /> : a.name}
    </a>
  );
}

function Item({ m, chat, seen }: { m: Message; chat: Chat; seen?: boolean }) {
  return (
    <div
      class="msg"
      data-part="message"
      data-sender={m.sender_type}
      data-state={m.state}
      data-id={m.id}
    >
      {m.sender_type === "agent" && <div class="who">{m.sender_name || t("agent")}</div>}
      <div class="text" data-part="content" dir="auto">
        {m.attachment && <FileLink a={m.attachment} chat={chat} />}
        {m.content !== m.attachment?.name && linked(m.content)}
      </div>
      <div class="meta">
        <time data-part="time" dateTime={m.created_at}>
          {clock(m.created_at)}
        </time>
        {seen ? <span data-part="seen">{t("seen")}</span> : m.state && <span>{t(m.state)}</span>}
        {m.state === "failed" && (
          <button
            type="button"
            class="link"
            data-part="retry"
            aria-label={t("retryLabel")}
            onClick={() => chat.retry(m.key)}
          >
            {t("retry")}
          </button>
        )}
      </div>
    </div>
  );
}

/** An agent has read up to `seen`, at or past this message. */
function seenBy(m: Message, seen: string | null): boolean {
  return Boolean(m.id && seen && compareIds(seen, m.id) >= 0);
}

export function Conversation({ s, chat }: { s: State; chat: Chat }) {
  // "Seen" shows under the visitor's last message only (Messenger-style).
  const lastOwn = s.messages.filter((m) => m.sender_type === "visitor").pop();
  // The buttons of the last message only: answered (anything newer), they go.
  const last = s.messages[s.messages.length - 1];
  const offered = !s.ended && last?.sender_type === "agent" && last.quick_replies;
  return (
    <div class="list" data-part="messages" role="log" aria-live="polite" aria-label={t("messages")}>
      {s.greet && (
        <div class="greeting" data-part="greeting">
          {s.greeting ?? t("greeting")}
        </div>
      )}
      {s.messages.map((m) => (
        <Item key={m.key} m={m} chat={chat} seen={m === lastOwn && seenBy(m, s.seen)} />
      ))}
      {offered && <Replies labels={offered.map((q) => q.label)} onPick={(label) => chat.send(label)} />}
      {s.agentTyping && !s.ended && (
        <div class="typing" data-part="typing">
          {t("typing")}
        </div>
      )}
    </div>
  );
}
