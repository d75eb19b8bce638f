import { useState } from "preact/hooks";
import { errorText } from "../api";
import { dayText, hoursFromForm, storedHours, WEEKDAY_NAMES, WEEKDAYS } from "../businessHours";
import type { Console } from "../console";
import { t } from "../i18n";
import type { Space } from "../protocol";

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
      setError(t("hoursBad", { day: read.bad }));
      return;
    }
    try {
      const path = `/spaces/${encodeURIComponent(space.id)}`;
      replace(await c.auth.api<Space>("PATCH", path, { settings: { business_hours: read } }));
      setSaved(t("saved"));
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
        {t("hoursOn")}
      </label>
      {on ? (
        <>
          <label>
            {t("timeZone")}
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
            <label key={day} title={t("hoursHint")}>
              {t(WEEKDAY_NAMES[day])}
              <input
                name={`hours_${day}`}
                data-part={`hours-${day}`}
                placeholder={t("dayClosed")}
                defaultValue={dayText(hours?.weekly?.[day])}
              />
            </label>
          ))}
          <label class="wide">
            {t("awayMessage")}
            <textarea
              name="away_message"
              data-part="hours-away-message"
              rows={2}
              maxLength={500}
              required
              defaultValue={hours?.away_message ?? t("awayDefault")}
            />
          </label>
        </>
      ) : null}
      <button type="submit" data-part="hours-save">
        {t("saveHours")}
      </button>
      <span class="hint">{saved}</span>
      <span class="error small" role="alert" hidden={!error}>
        {error}
      </span>
    </form>
  );
}
