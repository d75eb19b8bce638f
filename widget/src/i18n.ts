// The widget's texts in the visitor's language (README "Languages"). English is built into
// widget.js; every other catalogue is a JSON file the service serves compressed and cached for a
// year (/widget/locales/<lang>.<hash>.json, built from widget/locales/ by scripts/locales.ts),
// fetched only by visitors who need it. Until it arrives the widget speaks English.
//
// The language: ChatWidget.setLocale(code), else the space's `locale` setting unless "auto",
// else the best match of the browser's languages (de-AT -> de), else English.

import { type Catalogue, en, type Key } from "./locales/en";

// Set by the build (vite.config.ts): each language besides English, with its file's hash.
declare const __LOCALES__: Record<string, string>;
export const LOCALES: Record<string, string> = __LOCALES__;
// Written right to left: the widget's root gets dir="rtl".
const RTL = ["ar", "fa", "he", "ur"];

let lang = "en";
let texts: Catalogue = en;
let plurals = new Intl.PluralRules("en");

export const language = (): string => lang;
export const rtl = (code: string): boolean => RTL.includes(code);

/** Speak `code` from now on, with its catalogue (a missing key reads in English). */
export function use(code: string, catalogue: Catalogue): void {
  lang = code;
  texts = catalogue;
  plurals = new Intl.PluralRules(code);
}

/** The text for `key` in the current language; `{n}` picks the plural form and fills in. */
export function t(key: Key, params?: Record<string, string | number>): string {
  let text = texts[key] ?? en[key];
  if (typeof text !== "string") {
    text = text[plurals.select(Number(params?.n))] ?? text.other ?? "";
  }
  return params ? text.replace(/\{(\w+)\}/g, (all, name) => String(params[name] ?? all)) : text;
}

/** The first of `wanted` (most wanted first) that `available` has, as it is or by its language
 * alone (de-AT -> de); English when none is. */
export function pickLocale(wanted: readonly string[], available: readonly string[]): string {
  for (const tag of wanted) {
    const code = String(tag).toLowerCase();
    for (const c of [code, code.split("-")[0]]) if (available.includes(c)) return c;
  }
  return "en";
}

const catalogues = new Map<string, Promise<Catalogue | undefined>>();

/** The catalogue of `code` from the service (once; again after a failure). */
function load(http: string, code: string): Promise<Catalogue | undefined> {
  const hash = LOCALES[code];
  if (!hash) return Promise.resolve(en);
  let found = catalogues.get(code);
  if (!found) {
    found = fetch(`${http}/widget/locales/${code}.${hash}.json`, { credentials: "omit" })
      .then((reply) => (reply.ok ? reply.json() : undefined))
      .catch(() => undefined);
    catalogues.set(code, found);
  }
  return found.then((catalogue) => {
    if (!catalogue) catalogues.delete(code);
    return catalogue;
  });
}

/** Which language the widget speaks, from the three sources above; `changed` hears the new one
 * once its catalogue is in. */
export class Language {
  /** The space's setting ("auto" or a code) and setLocale's code ("" when not called). */
  space = "auto";
  fixed = "";
  private wanted = "en";

  constructor(
    private readonly http: string,
    private readonly changed: (code: string) => void,
  ) {}

  /** Choose again (at boot, when the config or setLocale says something new). */
  choose(): void {
    const available = ["en", ...Object.keys(LOCALES)];
    const wanted = this.fixed
      ? [this.fixed]
      : this.space !== "auto"
        ? [this.space]
        : navigator.languages?.length
          ? navigator.languages
          : [navigator.language];
    const code = pickLocale(wanted, available);
    if (code === this.wanted) return;
    this.wanted = code;
    void load(this.http, code).then((catalogue) => {
      if (this.wanted !== code) return; // asked for another meanwhile
      if (!catalogue) this.wanted = "en"; // not served: English, and asked again next time
      use(catalogue ? code : "en", catalogue ?? en);
      this.changed(lang);
    });
  }
}
