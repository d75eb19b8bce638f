import { useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Space } from "../protocol";

// The typing preview (structures.md, "Typing preview"): agents see what visitors type before
// they send it. Off by default, for the visitors' privacy; a form of its own in the space's card.
export function SpacePreviewField({
  c,
  space,
  replace,
}: {
  c: Console;
  space: Space;
  replace: (updated: Space) => void;
}) {
  const [error, setError] = useState("");
  const on = space.settings?.typing_preview === true;
  const toggle = async (checked: boolean) => {
    setError("");
    try {
      const settings = { typing_preview: checked };
      replace(await c.auth.api<Space>("PATCH", `/spaces/${encodeURIComponent(space.id)}`, { settings }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div class="space-edit">
      <label class="check">
        <input
          type="checkbox"
          data-part="space-typing-preview"
          checked={on}
          onChange={(e) => void toggle((e.currentTarget as HTMLInputElement).checked)}
        />{" "}
        Typing preview: agents see what visitors type before they send it
      </label>
      <span class="error small" role="alert" hidden={!error}>
        {error}
      </span>
    </div>
  );
}
