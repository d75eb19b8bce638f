import { useState } from "preact/hooks";
import type { Console } from "../console";
import { CodeStep, EnrolStep } from "./TwoFactor";
import { t } from "../i18n";

export function SignIn({ c }: { c: Console }) {
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    try {
      await c.signIn(String(data.get("email") ?? "").trim(), String(data.get("password") ?? ""));
    } finally {
      setBusy(false);
    }
  };
  const pending = c.pending;
  if (pending)
    return (
      <main class="signin-page">
        {pending.kind === "challenge" ? (
          <CodeStep c={c} pending={pending} />
        ) : (
          <EnrolStep c={c} pending={pending} />
        )}
      </main>
    );
  return (
    <main class="signin-page">
      <form class="card signin" data-part="signin" onSubmit={submit}>
        <h1>{t("consoleTitle")}</h1>
        <label>
          {t("email")}
          <input name="email" type="email" autocomplete="username" required autofocus />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <p class="error" data-part="signin-error" role="alert" hidden={!c.signInError}>
          {c.signInError}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {t(busy ? "signingIn" : "signIn")}
        </button>
      </form>
    </main>
  );
}
