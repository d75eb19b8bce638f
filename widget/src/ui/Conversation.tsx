// The message list. Every text (content, names) is a Preact text node: markup in a message
// shows as typed, never parsed.

import type { State } from "../chat";
import type { Message } from "../messages";
import { compareIds } from "../protocol";

const CLOCK = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function clock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : CLOCK.format(date);
}

const DELIVERY = { sending: "Sending…", sent: "Sent", failed: "Not sent" };

function Item({ m, retry, seen }: { m: Message; retry: (key: string) => void; seen?: boolean }) {
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
        {m.content}
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
            onClick={() => retry(m.key)}
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

export function Conversation({ s, retry }: { s: State; retry: (key: string) => void }) {
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
        <Item key={m.key} m={m} retry={retry} seen={m === lastOwn && seenBy(m, s.seen)} />
      ))}
      {s.agentTyping && !s.ended && (
        <div class="typing" data-part="typing">
          Agent is typing
        </div>
      )}
    </div>
  );
}
