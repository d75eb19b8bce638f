// The composer (Enter sends, Shift+Enter breaks the line) and the pre-chat / offline form.
// Both are uncontrolled: the draft lives in the textarea, so a re-render never touches it.
// The paperclip opens a file picker; the chosen file is uploaded and sent with the draft.

import type { Chat, State } from "../chat";
import { ClipIcon, SendIcon } from "./icons";

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
      <input
        type="file"
        hidden
        data-part="file"
        onChange={async (event) => {
          const picker = event.currentTarget;
          const file = picker.files?.[0];
          picker.value = ""; // the same file may be chosen again
          const input = picker.form?.elements.namedItem("message") as HTMLTextAreaElement | null;
          if (file && input && (await chat.attach(file, input.value))) input.value = "";
        }}
      />
      <button
        type="button"
        class="send clip"
        data-part="attach"
        aria-label="Attach a file"
        // An upload needs the session token of a first welcome; one file at a time.
        disabled={chat.state.uploading || chat.state.status !== "connected"}
        onClick={(event) => (event.currentTarget.previousSibling as HTMLInputElement).click()}
      >
        <ClipIcon />
      </button>
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
      {/* Outside business hours the away screen above says it (one sentence, not two). */}
      {!s.outsideHours && (
        <p>
          {s.queueFull ? "All our agents are busy" : "No one is online"} right now. Leave your email
          and we will get back to you.
        </p>
      )}
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
