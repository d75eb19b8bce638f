// The queue settings of a space as the space page edits them (structures.md "Space settings"):
// the waiting-queue cap (`max_open_threads`), idle close in minutes and the reopen window in
// hours; the API stores seconds. Stored values win over these defaults (chat/space_settings.py).

export const QUEUE_DEFAULTS = {
  max_open_threads: 100,
  idle_close_seconds: 1800,
  reopen_window_seconds: 86400,
};

export interface QueueSettings {
  max_open_threads: number;
  idle_close_seconds: number;
  reopen_window_seconds: number;
}

function stored(settings: Record<string, unknown> | undefined, key: keyof QueueSettings): number {
  const value = settings?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : QUEUE_DEFAULTS[key];
}

/** The form's values: the cap, idle close in minutes, the reopen window in hours. */
export function queueFields(settings: Record<string, unknown> | undefined): {
  cap: number;
  idleMinutes: number;
  reopenHours: number;
} {
  return {
    cap: stored(settings, "max_open_threads"),
    idleMinutes: stored(settings, "idle_close_seconds") / 60,
    reopenHours: stored(settings, "reopen_window_seconds") / 3600,
  };
}

/** The settings a submitted form sets; null when a field is not a number (the browser's own
 * validation stops that first). 0 minutes or hours turns idle close or reopening off. */
export function queueSettings(data: FormData): QueueSettings | null {
  const cap = Number(data.get("max_open_threads"));
  const idle = Number(data.get("idle_close_minutes"));
  const reopen = Number(data.get("reopen_window_hours"));
  if (![cap, idle, reopen].every(Number.isFinite)) return null;
  return {
    max_open_threads: Math.round(cap),
    idle_close_seconds: Math.round(idle * 60),
    reopen_window_seconds: Math.round(reopen * 3600),
  };
}
