import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import { dateTime } from "./format";
import { useFormAction } from "./formAction";
import { t } from "../i18n";

// Admins: the organization's API keys (REST /api-keys; README "API keys"). A new key is shown
// once, in this page's state only (never stored in the browser), with a copy button; the list
// shows what identifies a key (its start and last 4), never the key. Revoking is final.

export const SCOPES = ["read", "write", "admin"] as const;
export type KeyScope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  name: string;
  scopes: KeyScope[];
  prefix: string;
  last4: string;
  created_by: string;
  created_by_name: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  active: boolean;
}

const SCOPE_TEXT: Record<KeyScope, string> = {
  read: "read (GET routes)",
  write: "write (claim, close, transfer, notes, …)",
  admin: "admin (admin-only routes)",
};

/** The create form as a request body: the name trimmed, the checked scopes in a fixed order. */
export function apiKeyFields(data: FormData): { name: string; scopes: KeyScope[] } {
  const checked = new Set(data.getAll("scopes").map(String));
  return {
    name: String(data.get("name") ?? "").trim(),
    scopes: SCOPES.filter((s) => checked.has(s)),
  };
}

export function ApiKeysPage({ c }: { c: Console }) {
  const [items, setItems] = useState<ApiKey[] | null>(null);
  const [listError, setListError] = useState("");
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const load = async () => {
    setItems((await c.auth.api<{ items: ApiKey[] }>("GET", "/api-keys")).items);
  };
  useEffect(() => {
    load().catch((err: unknown) => setListError(errorText(err)));
  }, []);
  const { busy, error, submit } = useFormAction(async (data) => {
    const body = apiKeyFields(data);
    if (body.scopes.length === 0) throw new Error("Choose at least one scope.");
    const created = await c.auth.api<ApiKey & { key: string }>("POST", "/api-keys", body);
    setShown({ name: created.name, key: created.key });
    await load();
  });
  const revoke = (k: ApiKey) => {
    if (!window.confirm(`Revoke the API key ${k.name}? Anything using it stops working at once.`))
      return;
    setListError("");
    c.auth
      .api<null>("DELETE", `/api-keys/${encodeURIComponent(k.id)}`)
      .then(load)
      .catch((err: unknown) => setListError(errorText(err)));
  };
  return (
    <main class="admin" data-part="api-keys-page">
      <h1>{t("api-keys")}</h1>
      <p class="hint">
        For servers calling the REST API: send <code>Authorization: Bearer &lt;key&gt;</code>. A
        key acts as the admin who created it, limited to its scopes, until it is revoked or that
        admin is removed or no longer an admin.
      </p>
      <form class="card admin-form" data-part="api-key-form" onSubmit={submit}>
        <h2>Create a key</h2>
        <div class="fields">
          <label class="wide">
            Name
            <input name="name" required maxLength={120} autocomplete="off" />
          </label>
          <fieldset class="wide api-key-scopes">
            <legend class="label">Scopes</legend>
            {SCOPES.map((s) => (
              <label key={s} class="check">
                <input
                  type="checkbox"
                  name="scopes"
                  value={s}
                  data-part={`scope-${s}`}
                  defaultChecked={s === "read"}
                />{" "}
                {SCOPE_TEXT[s]}
              </label>
            ))}
          </fieldset>
        </div>
        <p class="error" role="alert" data-part="api-key-form-error" hidden={!error}>
          {error}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Create
        </button>
      </form>
      {shown ? <NewKey shown={shown} onDone={() => setShown(null)} /> : null}
      {listError ? (
        <p class="error" role="alert" data-part="api-keys-error">
          {listError}
        </p>
      ) : null}
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p class="hint" data-part="api-keys-empty">
          No API keys yet.
        </p>
      ) : (
        <ul class="space-list">
          {items.map((k) => (
            <KeyRow key={`${k.id}:${k.revoked_at ?? ""}`} k={k} onRevoke={() => revoke(k)} />
          ))}
        </ul>
      )}
    </main>
  );
}

/** The key just created: shown this once, with a copy button (the clipboard API needs a
 * secure context; elsewhere the text is selected for Ctrl+C). */
function NewKey({
  shown,
  onDone,
}: {
  shown: { name: string; key: string };
  onDone: () => void;
}) {
  const [copied, setCopied] = useState("");
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(shown.key);
      setCopied("Copied.");
      return;
    } catch {
      // no clipboard API (plain http) or refused: select the text for Ctrl+C
    }
    field.current?.focus();
    field.current?.select();
    setCopied("Selected: press Ctrl+C (⌘C) to copy.");
  };
  return (
    <section class="card" data-part="api-key-created" role="status">
      <h2>{shown.name}: copy the key now</h2>
      <p class="hint">It is not stored and cannot be shown again.</p>
      <input
        ref={field}
        class="api-key-value"
        readOnly
        value={shown.key}
        data-part="api-key-value"
        aria-label="The new API key"
        onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
      />
      <div class="row-actions">
        <button type="button" data-part="api-key-copy" onClick={() => void copy()}>
          Copy
        </button>
        <span role="status">{copied}</span>
        <span class="spacer" />
        <button type="button" data-part="api-key-done" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

function KeyRow({ k, onRevoke }: { k: ApiKey; onRevoke: () => void }) {
  return (
    <li
      class="card space-row"
      data-part="api-key-row"
      data-key-id={k.id}
      data-revoked={k.revoked_at ? "true" : "false"}
    >
      <strong>{k.name}</strong>{" "}
      <code data-part="api-key-hint">
        {k.prefix}…{k.last4}
      </code>{" "}
      <span data-part="api-key-scopes">{k.scopes.join(", ")}</span>
      <p class="hint">
        Created by {k.created_by_name} {dateTime(k.created_at)} · last used{" "}
        {k.last_used_at ? dateTime(k.last_used_at) : "never"}
        {k.revoked_at ? ` · revoked ${dateTime(k.revoked_at)}` : ""}
      </p>
      {!k.revoked_at && !k.active ? (
        <p class="hint" data-part="api-key-inactive">
          Not working: {k.created_by_name} was removed or is no longer an admin.
        </p>
      ) : null}
      {k.revoked_at ? null : (
        <div class="row-actions">
          <span class="spacer" />
          <button type="button" class="danger" data-part="api-key-revoke" onClick={onRevoke}>
            Revoke
          </button>
        </div>
      )}
    </li>
  );
}
