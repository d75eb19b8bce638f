// The away screen (structures.md "Business hours"), a lazy chunk (README "Lazy chunks"): outside
// the space's hours, its away message and when the team is back, in the visitor's own time zone
// and language (Intl). Plain props; it imports nothing of the app.

import { closeLoopTexts as t } from "./texts";

const DAY_MS = 86_400_000;

/** "Back today at 9:00", "Back tomorrow at 9:00", "Back Monday at 9:00", or with the date a
 * week or more ahead. `locale` undefined: the browser's. */
export function backText(at: number, now: number, locale?: string): string {
  const when = new Date(at);
  const time = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" }).format(when);
  const day = when.toDateString();
  if (day === new Date(now).toDateString()) return t.backToday(time);
  if (day === new Date(now + DAY_MS).toDateString()) return t.backTomorrow(time);
  const options: Intl.DateTimeFormatOptions =
    at - now < 6 * DAY_MS ? { weekday: "long" } : { weekday: "long", month: "long", day: "numeric" };
  return t.backOn(new Intl.DateTimeFormat(locale, options).format(when), time);
}

export interface AwayProps {
  message: string;
  backAt: number | null;
  now: number;
}

export default function Away({ message, backAt, now }: AwayProps) {
  return (
    <div class="panel away" data-part="away" role="status">
      <p>{message}</p>
      {backAt !== null && (
        <p data-part="back-at">
          <strong>{backText(backAt, now)}</strong>
        </p>
      )}
    </div>
  );
}
