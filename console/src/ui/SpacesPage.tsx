import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Agent, Space } from "../protocol";
import { SpaceBotField, useBots } from "./BotFirstField";
import { RatingsSummary } from "./RatingsSummary";
import { SpaceAppearance } from "./SpaceAppearance";
import { SpaceGroupFields } from "./SpaceGroupFields";
import { SpaceHoursField } from "./SpaceHoursField";
import { SpaceIdentityField } from "./SpaceIdentityField";
import { SpaceLocaleField } from "./SpaceLocaleField";
import { SpacePreviewField } from "./SpacePreviewField";
import { useFormAction } from "./formAction";
import { queueFields, queueSettings } from "../spaceSettings";
import { t } from "../i18n";

/** allowed_domains typed as a comma- or newline-separated list. */
export function parseDomains(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter(Boolean);
}

export function embedSnippet(origin: string, key: string): string {
  return `<script src="${origin}/widget.js" data-widget-key="${key}" async></script>`;
}

export function SpacesPage({ c }: { c: Console }) {
  const {
    busy,
    error: formError,
    submit: create,
  } = useFormAction(async (data) => {
    await c.auth.api<Space>("POST", "/spaces", {
      name: String(data.get("name") ?? "").trim(),
      allowed_domains: parseDomains(String(data.get("allowed_domains") ?? "")),
    });
    await c.loadSpaces();
    // A socket learns its spaces at the welcome: a new one needs a new socket (feeds resume).
    c.conn.reconnect();
  });
  const { bots, error: botsError } = useBots(c);
  useEffect(() => {
    void c.loadSpaces();
    c.loadGroups().catch(() => undefined); // without them the default group shows "None"
  }, []);

  return (
    <main class="admin">
      <h1>{t("spaces")}</h1>
      <form class="card admin-form" data-part="space-form" onSubmit={create}>
        <h2>{t("addSpace")}</h2>
        <div class="fields">
          <label>
            Name
            <input name="name" required maxLength={120} autocomplete="off" />
          </label>
          <label class="wide">
            Allowed domains (comma or newline separated, e.g. example.com, *.example.com)
            <textarea name="allowed_domains" rows={2} required />
          </label>
        </div>
        <p class="error" role="alert" data-part="space-form-error" hidden={!formError}>
          {formError}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Add space
        </button>
      </form>
      <p class="error" role="alert" data-part="bots-error" hidden={!botsError}>
        Could not load the bots: {botsError}
      </p>
      <ul class="space-list">
        {c.spaces.map((s) => (
          <SpaceRow key={s.id} c={c} space={s} bots={bots} />
        ))}
      </ul>
    </main>
  );
}

function SpaceRow({ c, space, bots }: { c: Console; space: Space; bots: Agent[] }) {
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  const [copied, setCopied] = useState("");
  const snippetRef = useRef<HTMLTextAreaElement>(null);
  const key = space.widget_key ?? "";
  const snippet = embedSnippet(location.origin, key);
  const queue = queueFields(space.settings);

  const replace = (updated: Space) => {
    c.setSpaces(c.spaces.map((s) => (s.id === updated.id ? updated : s)));
    c.changed();
  };

  const save = async (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setError("");
    setSaved("");
    const settings = queueSettings(data);
    if (!settings) {
      setError("The queue settings must be numbers.");
      return;
    }
    try {
      replace(
        await c.auth.api<Space>("PATCH", `/spaces/${encodeURIComponent(space.id)}`, {
          name: String(data.get("name") ?? "").trim(),
          allowed_domains: parseDomains(String(data.get("allowed_domains") ?? "")),
          settings,
        }),
      );
      setSaved("Saved.");
    } catch (err) {
      setError(errorText(err));
    }
  };

  const copy = async () => {
    setCopied("");
    try {
      await navigator.clipboard.writeText(snippet);
      setCopied("Copied.");
      return;
    } catch {
      // no clipboard API (plain http) or refused: select the text for Ctrl+C
    }
    const area = snippetRef.current;
    if (!area) return;
    area.focus();
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    setCopied(ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
  };

  const rotate = async () => {
    if (
      !window.confirm(
        `Rotate the widget key of ${space.name}? Pages using the old key stop working at once.`,
      )
    ) {
      return;
    }
    setError("");
    try {
      replace(
        await c.auth.api<Space>("POST", `/spaces/${encodeURIComponent(space.id)}/rotate-key`),
      );
      setCopied("");
    } catch (err) {
      setError(errorText(err));
    }
  };

  const remove = async () => {
    if (!window.confirm(`Delete the space ${space.name}? Its widget stops working.`)) return;
    setError("");
    try {
      await c.auth.api("DELETE", `/spaces/${encodeURIComponent(space.id)}`);
      c.setSpaces(c.spaces.filter((s) => s.id !== space.id));
      c.threads.forgetSpace(space.id);
      c.pickSpace();
      c.changed();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <li class="card space-row" data-part="space-row" data-space-id={space.id}>
      <div class="space-head">
        <h2 data-part="space-name">{space.name}</h2>
        <span class="hint">{(space.allowed_domains ?? []).join(", ")}</span>
      </div>
      <form class="space-edit" data-part="space-edit" onSubmit={save}>
        <label>
          Name
          <input name="name" required maxLength={120} defaultValue={space.name} />
        </label>
        <label class="wide">
          Allowed domains
          <textarea
            name="allowed_domains"
            rows={2}
            required
            defaultValue={(space.allowed_domains ?? []).join("\n")}
          />
        </label>
        <label title="Conversations waiting for an agent at once; past it a visitor can leave a message">
          Waiting-queue cap
          <input
            name="max_open_threads"
            type="number"
            required
            min={1}
            max={1000000}
            step={1}
            defaultValue={String(queue.cap)}
          />
        </label>
        <label title="Close a conversation when the visitor has not replied to an agent for this long (0: never)">
          Close after no reply (minutes)
          <input
            name="idle_close_minutes"
            type="number"
            required
            min={0}
            max={43200}
            step="any"
            defaultValue={String(queue.idleMinutes)}
          />
        </label>
        <label title="A visitor writing again within this long after the end continues the conversation (0: never)">
          Reopen window (hours)
          <input
            name="reopen_window_hours"
            type="number"
            required
            min={0}
            max={168}
            step="any"
            defaultValue={String(queue.reopenHours)}
          />
        </label>
        <button type="submit">Save</button>
        <span class="hint">{saved}</span>
      </form>
      <SpaceGroupFields c={c} space={space} replace={replace} />
      <SpaceBotField c={c} space={space} bots={bots} replace={replace} />
      <SpacePreviewField c={c} space={space} replace={replace} />
      <SpaceIdentityField c={c} space={space} replace={replace} />
      <SpaceLocaleField c={c} space={space} replace={replace} />
      <SpaceHoursField c={c} space={space} replace={replace} />
      <SpaceAppearance c={c} space={space} replace={replace} />
      <RatingsSummary c={c} space={space} />
      <div class="widget-key">
        <span class="label">Widget key</span> <code data-part="widget-key">{key}</code>
      </div>
      <label class="snippet">
        <span class="label">Embed snippet</span>
        <textarea data-part="embed-snippet" readOnly rows={2} ref={snippetRef} value={snippet} />
      </label>
      <div class="row-actions">
        <button type="button" data-part="copy-snippet" onClick={() => void copy()}>
          Copy snippet
        </button>
        <span class="hint" role="status">
          {copied}
        </span>
        <span class="spacer" />
        <button type="button" data-part="rotate-key" onClick={() => void rotate()}>
          Rotate key
        </button>
        <button type="button" class="danger" data-part="space-delete" onClick={() => void remove()}>
          Delete
        </button>
      </div>
      <p class="error" role="alert" hidden={!error}>
        {error}
      </p>
    </li>
  );
}
