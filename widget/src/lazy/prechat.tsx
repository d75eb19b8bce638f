// The pre-chat / offline form, a lazy chunk (README "Lazy chunks"): shown only when nobody can
// answer, so it is fetched then. Uncontrolled, like the composer. Imports types only from the
// app (a chunk must not pull app modules in: they would be a second copy).

import type { Chat, State } from "../chat";
import css from "./prechat.css?inline";

export { css };

export default function Prechat({ chat, s }: { chat: Chat; s: State }) {
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
