// The composer (Enter sends, Shift+Enter breaks the line) and the pre-chat / offline form.
// Both are uncontrolled: the draft lives in the textarea, so a re-render never touches it.

import type { Chat, State } from "../chat";
import { SendIcon } from "./icons";

export function Composer({ chat }: { chat: Chat }) {
  const send = (input: HTMLTextAreaElement) => {
    if (chat.send(input.value)) input.value = "";
    input.focus();
  };
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send(event.currentTarget.elements.namedItem("message") as HTMLTextAreaElement);
      }}
    >
      <textarea
        class="input"
        data-part="input"
        name="message"
        rows={1}
        placeholder="Write a message…"
        aria-label="Your message"
        onInput={(event) => chat.typing(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send(event.currentTarget);
          }
        }}
      />
      <button type="submit" class="send" data-part="send" aria-label="Send message">
        <SendIcon />
      </button>
    </form>
  );
}

export function Prechat({ chat, s }: { chat: Chat; s: State }) {
  return (
    <form
      class="panel prechat"
      data-part="prechat"
      aria-label="Leave your details"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        chat.identify({ name: String(data.get("name") ?? ""), email: String(data.get("email") ?? "") }, true);
      }}
    >
      <p>
        {s.queueFull
          ? "All our agents are busy right now. Leave your email and we will get back to you."
          : "No one is online right now. Leave your email and we will get back to you."}
      </p>
      <input class="field" name="name" autocomplete="name" maxLength={120} placeholder="Name" aria-label="Name" />
      <input
        class="field"
        name="email"
        type="email"
        autocomplete="email"
        maxLength={254}
        required
        placeholder="Email"
        aria-label="Email"
      />
      <button type="submit" class="primary">
        Send
      </button>
    </form>
  );
}
