import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../api";
import {
  type Appearance,
  appearanceChanges,
  appearanceOf,
  MAX_GREETING_CHARS,
  MAX_LABEL_CHARS,
  previewConfig,
  type TeamPreview,
} from "../appearance";
import type { Console } from "../console";
import type { Space } from "../protocol";

type PreviewWindow = Window & { ChatWidget?: { preview?: (config: unknown) => void } };

// The space's appearance (README "Appearance"): colour, greeting, corner and launcher label,
// with a live preview: the real widget.js in a frame (/widget-preview), given the unsaved
// settings on every keystroke; it connects to nothing and creates no visitor. Saved with
// PATCH /spaces/{id} (admins only, as the whole Spaces page).
export function SpaceAppearance({
  c,
  space,
  replace,
}: {
  c: Console;
  space: Space;
  replace: (updated: Space) => void;
}) {
  const [edited, setEdited] = useState<Appearance>(() => appearanceOf(space.settings));
  const [team, setTeam] = useState<TeamPreview | null>(null);
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const frame = useRef<HTMLIFrameElement>(null);

  useEffect(() => {
    c.auth
      .api<TeamPreview>("GET", `/spaces/${encodeURIComponent(space.id)}/team`)
      .then(setTeam)
      .catch(() => setTeam(null)); // the preview then shows no team line
  }, [space.id]);

  const show = () => {
    const target = frame.current?.contentWindow as PreviewWindow | null | undefined;
    target?.ChatWidget?.preview?.(previewConfig(space, edited, team));
  };
  useEffect(show, [edited, team, space]);

  const change = (patch: Partial<Appearance>) => {
    setStatus("");
    setEdited({ ...edited, ...patch });
  };
  const changes = appearanceChanges(space.settings, edited);
  const dirty = Object.keys(changes).length > 0;

  const save = async (event: Event) => {
    event.preventDefault();
    setError("");
    try {
      const path = `/spaces/${encodeURIComponent(space.id)}`;
      const updated = await c.auth.api<Space>("PATCH", path, { settings: changes });
      replace(updated);
      setEdited(appearanceOf(updated.settings)); // as stored (a label is trimmed)
      setStatus("Saved.");
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <details class="appearance" data-part="appearance">
      <summary>Appearance</summary>
      <div class="appearance-body">
        <form class="appearance-form" data-part="appearance-form" onSubmit={save}>
          <label>
            Colour
            <input
              type="color"
              data-part="appearance-color"
              value={edited.color}
              onInput={(e) => change({ color: (e.currentTarget as HTMLInputElement).value })}
            />
          </label>
          <label>
            Greeting
            <textarea
              data-part="appearance-greeting"
              rows={2}
              maxLength={MAX_GREETING_CHARS}
              value={edited.greeting}
              onInput={(e) => change({ greeting: (e.currentTarget as HTMLTextAreaElement).value })}
            />
          </label>
          <fieldset class="appearance-position">
            <legend>Position</legend>
            {(["right", "left"] as const).map((side) => (
              <label class="check">
                <input
                  type="radio"
                  name={`position-${space.id}`}
                  data-part={`appearance-position-${side}`}
                  checked={edited.position === side}
                  onChange={() => change({ position: side })}
                />{" "}
                Bottom {side}
              </label>
            ))}
          </fieldset>
          <label>
            Launcher label (optional, beside the bubble)
            <input
              data-part="appearance-label"
              maxLength={MAX_LABEL_CHARS}
              placeholder="e.g. Chat with us"
              value={edited.launcher_label}
              onInput={(e) =>
                change({ launcher_label: (e.currentTarget as HTMLInputElement).value })
              }
            />
          </label>
          <div class="row-actions">
            <button type="submit" class="primary" data-part="appearance-save" disabled={!dirty}>
              Save appearance
            </button>
            <button
              type="button"
              data-part="appearance-reset"
              disabled={!dirty}
              onClick={() => change(appearanceOf(space.settings))}
            >
              Discard changes
            </button>
            <span class="hint" role="status" data-part="appearance-status">
              {status}
            </span>
          </div>
          <p class="error" role="alert" hidden={!error}>
            {error}
          </p>
        </form>
        <iframe
          ref={frame}
          class="appearance-preview"
          data-part="appearance-preview"
          title={`Preview of the ${space.name} widget`}
          src="/widget-preview"
          onLoad={show}
        />
      </div>
    </details>
  );
}
