// The pre-chat / offline form, a lazy chunk (README "Lazy chunks"): shown only when nobody can
// answer, so it is fetched then. Uncontrolled, like the composer. Imports types only from the
// app (a chunk must not pull app modules in: they would be a second copy).

import type { Chat, State } from "../chat";
import { t } from "../i18n";
import { closedHours } from "../ui/states";
import css from "./prechat.css?inline";

export { css };

export default function Prechat({ chat, s }: { chat: Chat; s: State }) {
  return (
    <form
      class="panel prechat"
      data-part="prechat"
      aria-label={t("details")}
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        chat.identify({ name: String(data.get("name") ?? ""), email: String(data.get("email") ?? "") }, true);
      }}
    >
      {/* Outside business hours the away screen above says it (one sentence, not two). */}
      {!closedHours(s) && <p>{t(s.queueFull ? "busy" : "nobody")}</p>}
      <input class="field" name="name" autocomplete="name" maxLength={120} placeholder={t("name")} aria-label={t("name")} />
      <input
        class="field"
        name="email"
        type="email"
        autocomplete="email"
        maxLength={254}
        required
        placeholder={t("email")}
        aria-label={t("email")}
      />
      <button type="submit" class="primary">
        {t("submit")}
      </button>
    </form>
  );
}
