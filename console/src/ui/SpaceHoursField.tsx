import { useState } from "preact/hooks";
import { errorText } from "../api";
import { dayText, hoursFromForm, storedHours, WEEKDAY_NAMES, WEEKDAYS } from "../businessHours";
import type { Console } from "../console";
import type { Space } from "../protocol";

const DEFAULT_AWAY = "We are away right now. Leave us a message and we will get back to you.";

// Business hours (README "Business hours"): the time zone, each weekday's ranges and the away
// message, a form of its own in the space's card. Off: the space is always open.
export function SpaceHoursField({
  c,
  space,
  replace,
}: {
  c: Console;
  space: Space;
  replace: (updated: Space) => void;
}) {
  const hours = storedHours(space.settings);
  const [on, setOn] = useState(hours !== null);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const save = async (event: Event) => {
    event.preventDefault();
    setError("");
    setSaved("");
    const read = on ? hoursFromForm(new FormData(event.currentTarget as HTMLFormElement)) : null;
    if (read && "bad" in read) {
      setError(`${read.bad}: write ranges like 09:00-12:00, 13:00-17:00`);
      return;
    }
    try {
      const path = `/spaces/${encodeURIComponent(space.id)}`;
      replace(await c.auth.api<Space>("PATCH", path, { settings: { business_hours: read } }));
      setSaved("Saved.");
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="space-edit hours" data-part="space-hours" onSubmit={(e) => void save(e)}>
      <label class="check">
        <input
          type="checkbox"
          data-part="hours-on"
          checked={on}
          onChange={(e) => setOn((e.currentTarget as HTMLInputElement).checked)}
        />{" "}
        Business hours (outside them the widget shows the away message and offers to leave a message)
      </label>
      {on ? (
        <>
          <label>
            Time zone
            <input
              name="timezone"
              data-part="hours-timezone"
              list={`zones-${space.id}`}
              required
              defaultValue={hours?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone}
            />
            <datalist id={`zones-${space.id}`}>
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </label>
          {WEEKDAYS.map((day) => (
            <label key={day} title="Several ranges: 09:00-12:00, 13:00-17:00; empty: closed">
              {WEEKDAY_NAMES[day]}
              <input
                name={`hours_${day}`}
                data-part={`hours-${day}`}
                placeholder="Closed"
                defaultValue={dayText(hours?.weekly?.[day])}
              />
            </label>
          ))}
          <label class="wide">
            Away message
            <textarea
              name="away_message"
              data-part="hours-away-message"
              rows={2}
              maxLength={500}
              required
              defaultValue={hours?.away_message ?? DEFAULT_AWAY}
            />
          </label>
        </>
      ) : null}
      <button type="submit" data-part="hours-save">
        Save hours
      </button>
      <span class="hint">{saved}</span>
      <span class="error small" role="alert" hidden={!error}>
        {error}
      </span>
    </form>
  );
}
