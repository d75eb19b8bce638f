import { useState } from "preact/hooks";
import { errorText } from "../api";
import { type CannedResponse, type CannedScope, PLACEHOLDERS } from "../canned";
import type { Console } from "../console";
import { useFormAction } from "./formAction";
import { t } from "../i18n";

// Every agent manages their personal responses here; admins also the organization's. The REST
// routes decide (403 for an agent changing an org-wide one); this page only offers what they
// allow. After each change the list the composer uses is read again.

/** The shortcut as the server stores it: no leading "/", lowercase. */
export function cleanShortcut(value: string): string {
  return value.trim().replace(/^\/+/, "").toLowerCase();
}

/** The form's fields as a request body. */
export function cannedFields(data: FormData): { shortcut: string; title: string; content: string } {
  return {
    shortcut: cleanShortcut(String(data.get("shortcut") ?? "")),
    title: String(data.get("title") ?? "").trim(),
    content: String(data.get("content") ?? "").trim(),
  };
}

export function CannedPage({ c }: { c: Console }) {
  const admin = c.me?.role === "admin";
  const {
    busy,
    error: formError,
    submit: create,
  } = useFormAction(async (data) => {
    const scope = admin ? String(data.get("scope") ?? "personal") : "personal";
    await c.auth.api<CannedResponse>("POST", "/canned-responses", {
      scope,
      ...cannedFields(data),
    });
    await c.canned.load();
  });

  const shared = c.canned.items.filter((r) => r.scope === "organization");
  const own = c.canned.items.filter((r) => r.scope === "personal");
  return (
    <main class="admin">
      <h1>{t("canned")}</h1>
      <p class="hint">
        Type <kbd>/</kbd> and a shortcut in a reply to insert one. Placeholders, filled in when
        inserted: {Object.keys(PLACEHOLDERS).map((name) => `{{${name}}}`).join(", ")}; add a
        fallback for when it is unknown, as in {"{{visitor.name|there}}"}.
      </p>
      <form class="card admin-form" data-part="canned-form" onSubmit={create}>
        <h2>Add a canned response</h2>
        <div class="fields">
          {admin ? (
            <label>
              For
              <select name="scope" data-part="canned-scope">
                <option value="personal">Only me</option>
                <option value="organization">Everyone in the organization</option>
              </select>
            </label>
          ) : null}
          <CannedInputs />
        </div>
        <p class="error" role="alert" data-part="canned-form-error" hidden={!formError}>
          {formError}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Add
        </button>
      </form>
      {c.canned.error ? (
        <p class="error" role="alert" data-part="canned-load-error">
          Could not load the canned responses: {c.canned.error}
        </p>
      ) : null}
      <CannedSection c={c} title="Everyone's" scope="organization" items={shared} editable={admin} />
      <CannedSection c={c} title="Mine" scope="personal" items={own} editable />
    </main>
  );
}

function CannedInputs({ r }: { r?: CannedResponse }) {
  return (
    <>
      <label>
        Shortcut
        <input
          name="shortcut"
          required
          maxLength={33}
          pattern="/?[A-Za-z0-9_\-]{1,32}"
          title="Letters, digits, - and _ (at most 32)"
          autocomplete="off"
          defaultValue={r?.shortcut}
        />
      </label>
      <label class="wide">
        Title
        <input name="title" required maxLength={120} autocomplete="off" defaultValue={r?.title} />
      </label>
      <label class="wide canned-content">
        Text
        <textarea name="content" required maxLength={4000} rows={3} defaultValue={r?.content} />
      </label>
    </>
  );
}

function CannedSection(props: {
  c: Console;
  title: string;
  scope: CannedScope;
  items: CannedResponse[];
  editable: boolean;
}) {
  const { c, items, editable } = props;
  return (
    <section data-part={`canned-${props.scope}`}>
      <h2 class="section-title">{props.title}</h2>
      {items.length === 0 ? <p class="hint">None yet.</p> : null}
      <ul class="space-list">
        {items.map((r) => (
          <CannedRow key={`${r.id}:${r.updated_at}`} c={c} r={r} editable={editable} />
        ))}
      </ul>
    </section>
  );
}

function CannedRow({ c, r, editable }: { c: Console; r: CannedResponse; editable: boolean }) {
  const [error, setError] = useState("");
  const url = `/canned-responses/${encodeURIComponent(r.id)}`;

  const act = async (work: () => Promise<unknown>) => {
    setError("");
    try {
      await work();
      await c.canned.load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const save = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    void act(() => c.auth.api("PATCH", url, cannedFields(data)));
  };

  const remove = () => {
    if (!window.confirm(`Delete the canned response /${r.shortcut}?`)) return;
    void act(() => c.auth.api("DELETE", url));
  };

  return (
    <li class="card space-row" data-part="canned-row" data-shortcut={r.shortcut}>
      {editable ? (
        <form class="fields" data-part="canned-edit" onSubmit={save}>
          <CannedInputs r={r} />
          <div class="row-actions">
            <button type="submit">Save</button>
            <span class="spacer" />
            <button type="button" class="danger" data-part="canned-delete" onClick={remove}>
              Delete
            </button>
          </div>
        </form>
      ) : (
        <>
          <div class="space-head">
            <h3 class="canned-shortcut">/{r.shortcut}</h3>
            <span>{r.title}</span>
          </div>
          <p class="canned-text">{r.content}</p>
        </>
      )}
      <p class="error" role="alert" data-part="canned-error" hidden={!error}>
        {error}
      </p>
    </li>
  );
}
