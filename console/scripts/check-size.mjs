// Print the console's files' raw and gzipped sizes; fail when one breaks its budget, or when the
// entry would load a chunk at start.
// Usage: node scripts/check-size.mjs <the build's folder: console.js, console.css, the chunks>
// The budgets are generous (the console is an app, loaded once per agent), but they stop a heavy
// dependency from slipping in unnoticed: Preact and its hooks are all this needs.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

// console.js and console.css together: what every agent downloads before the sign-in shows
// (the inbox and the conversation included). 36 KiB leaves about 3 KiB for what comes next;
// a new page that only some agents open belongs in a chunk (README "What loads when").
const ENTRY_BUDGET_GZIP_BYTES = 36 * 1024;
// Each chunk on its own, by the chunk's name (`<name>.<hash>.js`): the admins' pages, the
// canned responses page, and any small chunk the bundler makes for code two chunks share.
// The reports page (ui/ReportsPage.tsx: totals, inline SVG bars, no chart library): 2.7 KiB.
// The floor page (ui/FloorPage.tsx: tiles and two tables fed by the socket): 3 KiB.
// The built-in bot's rules editor (ui/BotRulesPage.tsx, one form per bot): 2.1 KiB.
const CHUNK_BUDGET_GZIP_BYTES = {
  admin: 12 * 1024,
  canned: 3 * 1024,
  reports: 4 * 1024,
  floor: 3 * 1024,
  botrules: 4 * 1024,
};
const SHARED_CHUNK_BUDGET_GZIP_BYTES = 2 * 1024;
const ENTRY = ["console.js", "console.css"];
// What vite.config.ts names a chunk, and what chat/http/pages.py caches for a year.
const CHUNK_NAME = /^([A-Za-z][A-Za-z0-9_-]*)\.[0-9a-f]{12}\.js$/;

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/check-size.mjs <folder with console.js, console.css, chunks>");
  process.exit(2);
}
const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
let failed = false;
const fail = (text) => {
  console.error(text);
  failed = true;
};
// Level 9, as a server or CDN compressing static files would (the app does; brotli is smaller).
const measure = (name) => {
  const body = readFileSync(join(dir, name));
  const gzipped = gzipSync(body, { level: 9 }).length;
  console.log(
    `${name}: ${body.length} bytes (${kib(body.length)}) raw, ${gzipped} bytes (${kib(gzipped)}) gzipped`,
  );
  return { body, gzipped };
};

let entry = 0;
for (const name of ENTRY) entry += measure(name).gzipped;
console.log(`entry (console.js + console.css): ${entry} bytes (${kib(entry)}) gzipped; budget ${ENTRY_BUDGET_GZIP_BYTES} bytes`);
if (entry > ENTRY_BUDGET_GZIP_BYTES) {
  fail(`the entry is ${entry - ENTRY_BUDGET_GZIP_BYTES} bytes over its gzip budget of ${ENTRY_BUDGET_GZIP_BYTES}`);
}

// A static import in console.js would fetch a chunk before anything shows (and the chunk would
// then be for everyone): the entry may name a chunk only in a dynamic import().
const script = readFileSync(join(dir, "console.js"), "utf8");
const staticImport = script.match(/(?:\bfrom|\bimport)\s*["'`][^"'`]*["'`]/);
if (staticImport) fail(`console.js imports statically (${staticImport[0]}): only import() may load a chunk`);

for (const name of readdirSync(dir).sort()) {
  if (ENTRY.includes(name)) continue;
  const match = CHUNK_NAME.exec(name);
  if (!match) {
    fail(`${name}: not a file the console's build makes (console.js, console.css, <name>.<12 hex>.js)`);
    continue;
  }
  const budget = CHUNK_BUDGET_GZIP_BYTES[match[1]] ?? SHARED_CHUNK_BUDGET_GZIP_BYTES;
  const { gzipped } = measure(name);
  console.log(`  chunk ${match[1]}: budget ${budget} bytes gzipped`);
  if (gzipped > budget) fail(`${name} is ${gzipped - budget} bytes over its gzip budget of ${budget}`);
}
if (failed) process.exit(1);
