// A space's appearance as the console's editor holds it (README "Appearance"): the four settings
// the widget shows, read from stored settings (their defaults when absent: chat/space_settings.py)
// and turned into the widget config the preview page's real widget renders.

import type { Space } from "./protocol";

export interface Appearance {
  color: string;
  greeting: string;
  position: "right" | "left";
  launcher_label: string;
}

export const APPEARANCE_DEFAULTS: Appearance = {
  color: "#2563eb",
  greeting: "Hi! How can we help?",
  position: "right",
  launcher_label: "",
};
export const MAX_GREETING_CHARS = 500;
export const MAX_LABEL_CHARS = 40;
const COLOR = /^#[0-9a-fA-F]{6}$/;

export function appearanceOf(settings: Record<string, unknown> | undefined): Appearance {
  const s = settings ?? {};
  const text = (key: "greeting" | "launcher_label") =>
    typeof s[key] === "string" ? (s[key] as string) : APPEARANCE_DEFAULTS[key];
  return {
    color: typeof s.color === "string" && COLOR.test(s.color) ? s.color : APPEARANCE_DEFAULTS.color,
    greeting: text("greeting"),
    position: s.position === "left" ? "left" : "right",
    launcher_label: text("launcher_label"),
  };
}

/** The settings a save sends: only what differs from what is stored. */
export function appearanceChanges(
  stored: Record<string, unknown> | undefined,
  edited: Appearance,
): Partial<Appearance> {
  const before = appearanceOf(stored);
  const changes: Partial<Appearance> = {};
  for (const key of Object.keys(edited) as (keyof Appearance)[]) {
    if (edited[key] !== before[key]) (changes as Record<string, string>)[key] = edited[key];
  }
  return changes;
}

export interface TeamPreview {
  team: { members: { name: string; avatar_url: string | null }[]; others: number };
  reply_time: "minutes" | "hour" | "day" | null;
}

/** What the preview's widget is given: the space's other settings, the edited ones over them,
 * and the team and reply time its real config would carry (GET /spaces/{id}/team). */
export function previewConfig(space: Space, edited: Appearance, team: TeamPreview | null) {
  return {
    space: { name: space.name, settings: { ...(space.settings ?? {}), ...edited } },
    agents_online: true,
    groups: [],
    team: team?.team ?? { members: [], others: 0 },
    reply_time: team?.reply_time ?? null,
  };
}
