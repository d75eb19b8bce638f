import { useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Space } from "../protocol";

// A space's group settings, a form of its own inside the space's card: the default group its
// conversations go to (none: the whole team) and whether the pre-chat form offers the groups.

/** The settings PATCH /spaces/{id} gets from this form ("" is no group: null). */
export function groupSettings(data: FormData): {
  default_group_id: string | null;
  visitor_picks_group: boolean;
} {
  const picked = String(data.get("default_group_id") ?? "");
  return {
    default_group_id: picked === "" ? null : picked,
    visitor_picks_group: data.get("visitor_picks_group") === "on",
  };
}

export function SpaceGroupFields({
  c,
  space,
  replace,
}: {
  c: Console;
  space: Space;
  replace: (updated: Space) => void;
}) {
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  const current = (space.settings?.default_group_id as string | null | undefined) ?? "";
  const picks = space.settings?.visitor_picks_group === true;

  const save = async (event: Event) => {
    event.preventDefault();
    const settings = groupSettings(new FormData(event.currentTarget as HTMLFormElement));
    setError("");
    setSaved("");
    try {
      replace(
        await c.auth.api<Space>("PATCH", `/spaces/${encodeURIComponent(space.id)}`, { settings }),
      );
      setSaved("Saved.");
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <form class="space-edit" data-part="space-groups" onSubmit={save}>
      <label>
        Default group
        <select name="default_group_id" data-part="space-default-group">
          <option value="" selected={current === ""}>
            None: the whole team
          </option>
          {current && !c.groups.some((g) => g.id === current) ? (
            // groups not loaded (yet): keep the stored choice rather than offer to clear it
            <option value={current} selected>
              The current group
            </option>
          ) : null}
          {c.groups.map((g) => (
            <option key={g.id} value={g.id} selected={g.id === current}>
              {g.name}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="visitor_picks_group"
          data-part="space-visitor-picks-group"
          defaultChecked={picks}
        />{" "}
        Visitors pick a group in the pre-chat form
      </label>
      <button type="submit">Save groups</button>
      <span class="hint">{saved}</span>
      <span class="error small" role="alert" hidden={!error}>
        {error}
      </span>
    </form>
  );
}
