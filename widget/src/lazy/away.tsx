// The away screen (structures.md "Business hours"), part of the `loop` chunk (loop.tsx): outside
// the space's hours, its away message and when the team is back, in the visitor's own time zone
// and the widget's language (t() and Intl). Plain props; of the app it imports only the shared
// texts (src/i18n.ts, handed over by the loader).

import { judgeHours } from "../hours";
import { language, t } from "../i18n";
import type { HoursJson } from "../protocol";

const DAY_MS = 86_400_000;

/** The widget's language for Intl, with the browser's region when it is the same language
 * (en-GB: "9:00", en-US: "9:00 AM"); the words come from the catalogue either way. */
function dateLocale(): string {
  const lang = language();
  const browser = globalThis.navigator?.language ?? "";
  return browser.toLowerCase().split("-")[0] === lang ? browser : lang;
}

/** "Back today at 9:00", "Back tomorrow at 9:00", "Back Monday at 9:00", or with the date a
 * week or more ahead; the day and time in `locale`, in the visitor's zone. */
export function backText(at: number, now: number, locale: string = dateLocale()): string {
  const when = new Date(at);
  const time = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" }).format(when);
  const day = when.toDateString();
  if (day === new Date(now).toDateString()) return t("backToday", { time });
  if (day === new Date(now + DAY_MS).toDateString()) return t("backTomorrow", { time });
  const options: Intl.DateTimeFormatOptions =
    at - now < 6 * DAY_MS ? { weekday: "long" } : { weekday: "long", month: "long", day: "numeric" };
  return t("backOn", { day: new Intl.DateTimeFormat(locale, options).format(when), time });
}

export interface AwayProps {
  hours: HoursJson;
  now: number;
}

export default function Away({ hours, now }: AwayProps) {
  const backAt = judgeHours(hours, now).backAt;
  return (
    <div class="panel away" data-part="away" role="status">
      <p>{hours.away_message}</p>
      {backAt !== null && (
        <p data-part="back-at">
          <strong>{backText(backAt, now)}</strong>
        </p>
      )}
    </div>
  );
}
