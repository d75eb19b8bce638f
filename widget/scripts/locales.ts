/// <reference types="node" />
// The widget's catalogues besides English (widget/locales/<lang>.json) as build output: each is
// checked against the English keys (src/locales/en.ts: none missing, none extra, the same
// parameters), minified, and emitted as locales/<lang>.<hash>.json next to widget.js; the
// bundle learns the hashes through the __LOCALES__ constant (vite.config.ts). The service
// serves them from chat/static/widget/locales/ (chat/http/widget_assets.py).

import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { en } from "../src/locales/en.ts";

const DIR = fileURLToPath(new URL("../locales", import.meta.url));
// 48 bits of SHA-256: plenty to tell builds apart.
const HASH_CHARS = 12;

type Value = string | Record<string, string>;

/** The `{name}` parameters a text (or any of its plural forms) uses. */
function params(value: Value): string {
  const texts = typeof value === "string" ? [value] : Object.values(value);
  return [...new Set(texts.flatMap((s) => s.match(/\{\w+\}/g) ?? []))].sort().join();
}

/** What is wrong with a catalogue, compared with English (empty: nothing). */
export function problems(catalogue: Record<string, Value>): string[] {
  const found: string[] = [];
  const reference = en as Record<string, Value>;
  for (const key of Object.keys(reference)) {
    const value = catalogue[key];
    if (value === undefined) found.push(`missing ${key}`);
    else if (typeof value !== typeof reference[key]) found.push(`${key}: plural forms differ`);
    else if (typeof value !== "string" && !value.other) found.push(`${key}: no "other" form`);
    else if (params(value) !== params(reference[key])) found.push(`${key}: other parameters`);
  }
  for (const key of Object.keys(catalogue)) if (!(key in reference)) found.push(`extra ${key}`);
  return found;
}

/** Every catalogue: its language, minified JSON and hash. Throws on a faulty one. */
export function catalogues(): { lang: string; json: string; hash: string }[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => {
      const lang = name.slice(0, -".json".length);
      const parsed = JSON.parse(readFileSync(join(DIR, name), "utf8"));
      const wrong = problems(parsed);
      if (wrong.length) throw new Error(`widget/locales/${name}: ${wrong.join("; ")}`);
      const json = JSON.stringify(parsed);
      const hash = createHash("sha256").update(json).digest("hex").slice(0, HASH_CHARS);
      return { lang, json, hash };
    });
}

/** The languages' hashes, for __LOCALES__. */
export function localeHashes(): Record<string, string> {
  return Object.fromEntries(catalogues().map(({ lang, hash }) => [lang, hash]));
}

/** Emits locales/<lang>.<hash>.json with the bundle. */
export function localesPlugin(): Plugin {
  return {
    name: "widget-locales",
    generateBundle() {
      for (const { lang, json, hash } of catalogues()) {
        this.emitFile({ type: "asset", fileName: `locales/${lang}.${hash}.json`, source: json });
      }
    },
  };
}
