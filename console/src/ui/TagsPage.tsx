import { useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Tag } from "../notes";
import { useFormAction } from "./formAction";
import { t } from "../i18n";

// Admins: the organization's tag list (REST /tags; README "Private notes and tags"). Renaming
// or recolouring shows at once on every conversation carrying the tag (rows hold tag ids);
// deleting takes it off every conversation. After each change the list is read again.

/** The form's fields as a request body: the name trimmed, the colour as the picker gives it. */
export function tagFields(data: FormData): { name: string; colour: string } {
  return {
    name: String(data.get("name") ?? "").trim(),
    colour: String(data.get("colour") ?? "#6b7280").toLowerCase(),
  };
}

export function TagsPage({ c }: { c: Console }) {
  const { busy, error, submit } = useFormAction(async (data) => {
    await c.auth.api<Tag>("POST", "/tags", tagFields(data));
    await c.notes.loadTags();
  });
  return (
    <main class="admin">
      <h1>{t("tags")}</h1>
      <p class="hint">Any agent puts these on conversations; the inbox filters by them.</p>
      <form class="card admin-form" data-part="tag-form" onSubmit={submit}>
        <h2>Add a tag</h2>
        <div class="fields">
          <TagInputs />
        </div>
        <p class="error" role="alert" data-part="tag-form-error" hidden={!error}>
          {error}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Add
        </button>
      </form>
      {c.notes.tags.length === 0 ? <p class="hint">No tags yet.</p> : null}
      <ul class="space-list">
        {c.notes.tags.map((t) => (
          <TagRow key={`${t.id}:${t.name}:${t.colour}`} c={c} t={t} />
        ))}
      </ul>
    </main>
  );
}

function TagInputs({ t }: { t?: Tag }) {
  return (
    <>
      <label class="wide">
        Name
        <input name="name" required maxLength={40} autocomplete="off" defaultValue={t?.name} />
      </label>
      <label>
        Colour
        <input name="colour" type="color" defaultValue={t?.colour ?? "#6b7280"} />
      </label>
    </>
  );
}

function TagRow({ c, t }: { c: Console; t: Tag }) {
  const [error, setError] = useState("");
  const url = `/tags/${encodeURIComponent(t.id)}`;
  const act = async (work: () => Promise<unknown>) => {
    setError("");
    try {
      await work();
      await c.notes.loadTags();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const save = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    void act(() => c.auth.api("PATCH", url, tagFields(data)));
  };
  const remove = () => {
    if (!window.confirm(`Delete the tag ${t.name}? It leaves every conversation.`)) return;
    void act(() => c.auth.api("DELETE", url));
  };
  return (
    <li class="card space-row" data-part="tag-row" data-tag-id={t.id}>
      <form class="fields" data-part="tag-edit" onSubmit={save}>
        <TagInputs t={t} />
        <div class="row-actions">
          <button type="submit">Save</button>
          <span class="spacer" />
          <button type="button" class="danger" data-part="tag-delete" onClick={remove}>
            Delete
          </button>
        </div>
      </form>
      <p class="error" role="alert" data-part="tag-error" hidden={!error}>
        {error}
      </p>
    </li>
  );
}
