import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console, PendingSignIn } from "../console";
import type { SignedIn } from "../protocol";

// Two-factor sign-in (README "Two-factor sign-in"): the sign-in's code step, enrolling an
// authenticator app (on the sign-in page with an enrolment token, or on the Security page), the
// recovery codes shown once, turning it off, and the admins' organization-wide requirement.

interface Enrolment {
  secret: string;
  otpauth_uri: string;
  /** An SVG data: URI drawn by the server: an <img> shows it and runs nothing in it. */
  qr_code: string;
}

type Enrolled = { recovery_codes: string[] } & Partial<SignedIn>;

interface Status {
  enabled: boolean;
  pending: boolean;
  recovery_codes_left: number;
  required: boolean;
}

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;

const codeField = (name: string, recovery: boolean) => (
  <input
    name={name}
    data-part={name}
    required
    autofocus
    autocomplete="one-time-code"
    inputMode={recovery ? "text" : "numeric"}
    pattern={recovery ? undefined : "[0-9 ]{6,7}"}
    maxLength={recovery ? 32 : 7}
  />
);

/** The sign-in's second step: a code from the authenticator app, or a recovery code. */
export function CodeStep({ c, pending }: { c: Console; pending: PendingSignIn }) {
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget as HTMLFormElement).get("code") ?? "");
    setBusy(true);
    setError("");
    try {
      const proof = recovery ? { recovery_code: value.trim() } : { code: value.replace(/\s/g, "") };
      c.signedIn(await c.auth.secondFactor(pending.token, proof));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card signin" data-part="second-factor" onSubmit={submit}>
      <h1>Two-factor sign-in</h1>
      <label key={String(recovery)}>
        {recovery ? "Recovery code" : "Code from your authenticator app"}
        {codeField("code", recovery)}
      </label>
      <p class="error" data-part="second-factor-error" role="alert" hidden={!error}>
        {error}
      </p>
      <button type="submit" class="primary" disabled={busy}>
        Verify
      </button>
      <button type="button" class="quiet" onClick={() => setRecovery(!recovery)}>
        {recovery ? "Use the authenticator app" : "Use a recovery code"}
      </button>
      <button type="button" class="quiet" onClick={() => c.cancelPending()}>
        Back
      </button>
    </form>
  );
}

/** Enrol an authenticator app: the QR code (or the secret to type), a first code, then the
 * recovery codes, shown this once. `done` gets the confirmation (with tokens when `call` used
 * an enrolment token). */
export function Enrol({ call, done }: { call: Call; done: (r: Enrolled) => void }) {
  const [started, setStarted] = useState<Enrolment | null>(null);
  const [enrolled, setEnrolled] = useState<Enrolled | null>(null);
  const [error, setError] = useState("");
  const act = async (work: () => Promise<void>) => {
    setError("");
    try {
      await work();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const start = () =>
    act(async () => setStarted(await call<Enrolment>("POST", "/auth/two-factor/enrol")));
  const confirm = (event: Event) => {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget as HTMLFormElement).get("code") ?? "");
    void act(async () =>
      setEnrolled(
        await call<Enrolled>("POST", "/auth/two-factor/confirm", {
          code: code.replace(/\s/g, ""),
        }),
      ),
    );
  };
  const failure = (
    <p class="error" role="alert" data-part="enrol-error" hidden={!error}>
      {error}
    </p>
  );
  if (enrolled)
    return <RecoveryCodes codes={enrolled.recovery_codes} done={() => done(enrolled)} />;
  if (!started)
    return (
      <div data-part="enrol">
        <button type="button" class="primary" data-part="enrol-start" onClick={() => void start()}>
          Set up an authenticator app
        </button>
        {failure}
      </div>
    );
  return (
    <form class="enrol" data-part="enrol" onSubmit={confirm}>
      <p>Scan this with an authenticator app, or type the key into it.</p>
      <img class="qr" src={started.qr_code} alt="QR code of the authenticator key" />
      <code class="secret" data-part="enrol-secret">
        {started.secret}
      </code>
      <label>
        The code it shows
        {codeField("code", false)}
      </label>
      {failure}
      <button type="submit" class="primary">
        Turn on
      </button>
    </form>
  );
}

function RecoveryCodes({ codes, done }: { codes: string[]; done: () => void }) {
  return (
    <div class="recovery" data-part="recovery-codes">
      <p>
        Recovery codes: each signs you in once if you lose your device. Keep them somewhere safe;
        they are not shown again.
      </p>
      <ul class="codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <button type="button" class="primary" data-part="recovery-done" onClick={done}>
        I have saved them
      </button>
    </div>
  );
}

/** The sign-in page's enrolment, where the organization requires a second factor. */
export function EnrolStep({ c, pending }: { c: Console; pending: PendingSignIn }) {
  const call: Call = (method, path, body) => c.auth.withToken(pending.token, method, path, body);
  const done = (r: Enrolled) => {
    if (r.access_token && r.refresh_token && r.agent)
      c.signedIn(c.auth.keep(r as Enrolled & SignedIn));
    else c.cancelPending("Enrolled: sign in again.");
  };
  return (
    <div class="card signin" data-part="enrol-required">
      <h1>Set up two-factor sign-in</h1>
      <p class="hint">Your organization requires a code from an authenticator app to sign in.</p>
      <Enrol call={call} done={done} />
    </div>
  );
}

/** Every agent's Security page; admins also set the organization's requirement. */
export function SecurityPage({ c }: { c: Console }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [required, setRequired] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState("");
  const call: Call = (method, path, body) => c.auth.api(method, path, body);
  const load = async () => {
    try {
      const s = await call<Status>("GET", "/auth/two-factor");
      setStatus(s);
      setRequired(s.required);
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => void load(), []);
  const withPassword = (path: string, after: (r: unknown) => void) => async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const password = String(new FormData(form).get("password") ?? "");
    setError("");
    try {
      after(await call("POST", path, { password }));
      form.reset();
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const requireAll = async (box: HTMLInputElement) => {
    const on = box.checked;
    setError("");
    try {
      await call("PATCH", "/organization", { require_two_factor: on });
      setRequired(on);
    } catch (err) {
      box.checked = !on; // refused (e.g. not enrolled yet): the box shows what holds
      setError(errorText(err));
    }
  };
  const passwordField = (
    <input name="password" type="password" autocomplete="current-password" required />
  );
  return (
    <main class="admin" data-part="security">
      <h1>Security</h1>
      <p class="error" role="alert" data-part="security-error" hidden={!error}>
        {error}
      </p>
      {codes ? <RecoveryCodes codes={codes} done={() => setCodes(null)} /> : null}
      {!status ? null : status.enabled ? (
        <section class="card admin-form">
          <h2>Two-factor sign-in is on</h2>
          <p data-part="codes-left">Recovery codes left: {status.recovery_codes_left}</p>
          <form onSubmit={withPassword("/auth/two-factor/recovery-codes", (r) => setCodes((r as Enrolled).recovery_codes))}>
            <label>
              Password {passwordField}
            </label>
            <button type="submit">New recovery codes</button>
          </form>
          {required ? null : (
            <form onSubmit={withPassword("/auth/two-factor/disable", () => undefined)}>
              <label>
                Password {passwordField}
              </label>
              <button type="submit" class="danger" data-part="two-factor-off">
                Turn off
              </button>
            </form>
          )}
        </section>
      ) : (
        <section class="card admin-form">
          <h2>Two-factor sign-in is off</h2>
          <Enrol call={call} done={() => void load()} />
        </section>
      )}
      {c.me?.role === "admin" && status ? (
        <label class="switch">
          <input
            type="checkbox"
            data-part="require-two-factor"
            checked={required}
            onChange={(e) => void requireAll(e.currentTarget as HTMLInputElement)}
          />
          Require two-factor sign-in for every agent of the organization:{" "}
          <strong data-part="require-state">{required ? "On" : "Off"}</strong>
        </label>
      ) : null}
    </main>
  );
}
