// The console's texts through one t() (README "Languages"). English only for now: a language
// is a catalogue module with the English keys (locales/en.ts), chosen here once, when the
// console loads, so module-level tables of texts (STATUS_TEXT) may call t() too.

import { en } from "./locales/en";

export type Key = keyof typeof en;

const texts: Record<Key, string> = en;

/** The text for `key`, with `{name}` parameters filled in. */
export function t(key: Key, params?: Record<string, string | number>): string {
  const text = texts[key];
  return params ? text.replace(/\{(\w+)\}/g, (all, name) => String(params[name] ?? all)) : text;
}
