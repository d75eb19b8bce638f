import type { Console, View } from "../console";
import { SearchBox } from "./SearchBox";
import { type Key, t } from "../i18n";

export function Header({ c }: { c: Console }) {
  const me = c.me;
  if (!me) return null;
  const admin = me.role === "admin";
  // A view's link, named by the catalogue's text of the same key.
  const nav = (view: View & Key) => (
    <a
      href={view === "inbox" ? "#/inbox" : `#/${view}`}
      data-part={`nav-${view}`}
      class={c.view === view ? "nav-link current" : "nav-link"}
      aria-current={c.view === view ? "page" : undefined}
    >
      {t(view)}
    </a>
  );
  const alerts = c.attention.enabled;
  return (
    <header class="topbar">
      <span class="brand">{t("brand")}</span>
      {/* First after the brand: its results open below it, 32em wide, and must stay on screen
          however many pages the nav lists. */}
      <SearchBox c={c} />
      <nav class="nav">
        {nav("inbox")}
        {admin ? nav("agents") : null}
        {admin ? nav("spaces") : null}
        {admin ? nav("groups") : null}
        {nav("canned")}
        {admin ? nav("tags") : null}
        {admin ? nav("deleted") : null}
        {admin ? nav("api-keys") : null}
        {admin ? nav("webhooks") : null}
        {admin ? nav("bot") : null}
        {nav("reports")}
        {admin || me.role === "supervisor" ? nav("floor") : null}
      </nav>
      <span class="spacer" />
      <span data-part="connection" data-status={c.status} class="connection" role="status">
        {t(c.status)}
      </span>
      <span
        class="load"
        data-part="load"
        title="Conversations you hold now, of the most you take at once"
      >
        {c.myLoad()}/{me.max_concurrent_chats}
      </span>
      <label class="switch" title={c.acceptingError || "New chats may be assigned to you"}>
        <input
          type="checkbox"
          data-part="accepting"
          checked={me.accepting_chats}
          onChange={(e) =>
            void c.outbox.setAccepting((e.currentTarget as HTMLInputElement).checked)
          }
        />
        {t("accepting")}
      </label>
      {c.acceptingError ? (
        <span class="error small" role="alert">
          {c.acceptingError}
        </span>
      ) : null}
      <button
        type="button"
        class="quiet"
        data-part="alerts"
        aria-pressed={alerts}
        title="Desktop notification and a sound for new chats while this tab is in the background"
        onClick={() => {
          if (alerts) c.attention.disable();
          else void c.attention.enable().then(() => c.changed());
          c.changed();
        }}
      >
        {t(alerts ? "alertsOn" : "alertsOff")}
      </button>
      <button
        type="button"
        class="quiet"
        title="Keyboard shortcuts (?)"
        onClick={() => {
          c.showShortcuts = true;
          c.changed();
        }}
      >
        ?
      </button>
      {/* The agent's own name opens their account's Security page (two-factor sign-in). */}
      <a
        href="#/security"
        class={c.view === "security" ? "whoami current" : "whoami"}
        data-part="nav-security"
        title={`${me.email}: security and two-factor sign-in`}
        aria-current={c.view === "security" ? "page" : undefined}
      >
        {me.name}
      </a>
      <button type="button" class="quiet" data-part="signout" onClick={() => void c.signOut()}>
        {t("signOut")}
      </button>
    </header>
  );
}
