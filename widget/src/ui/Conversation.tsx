// The message list. Every text (content, names) is a Preact text node: markup in a message
// shows as typed, never parsed. A message's file shows as a thumbnail (images) or a download
// link named after the file, through a signed link; both open in a new tab without an opener.

import type { Chat, State } from "../chat";
import type { Message } from "../messages";
import { type Attachment, compareIds } from "../protocol";

const CLOCK = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function clock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : CLOCK.format(date);
}

const DELIVERY = { sending: "Sending…", sent: "Sent", failed: "Not sent" };

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
      {m.sender_type === "agent" && <div class="who">{m.sender_name || "Agent"}</div>}
      <div class="text" data-part="content">
        {m.attachment && <FileLink a={m.attachment} chat={chat} />}
        {m.content !== m.attachment?.name && m.content}
      </div>
      <div class="meta">
        <time data-part="time" dateTime={m.created_at}>
          {clock(m.created_at)}
        </time>
        {seen ? <span data-part="seen">Seen</span> : m.state && <span>{DELIVERY[m.state]}</span>}
        {m.state === "failed" && (
          <button
            type="button"
            class="link"
            data-part="retry"
            aria-label="Retry sending this message"
            onClick={() => chat.retry(m.key)}
          >
            Retry
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
  return (
    <div class="list" data-part="messages" role="log" aria-live="polite" aria-label="Messages">
      {s.greet && (
        <div class="greeting" data-part="greeting">
          {s.greeting}
        </div>
      )}
      {s.messages.map((m) => (
        <Item key={m.key} m={m} chat={chat} seen={m === lastOwn && seenBy(m, s.seen)} />
      ))}
      {s.agentTyping && !s.ended && (
        <div class="typing" data-part="typing">
          Agent is typing
        </div>
      )}
    </div>
  );
}
