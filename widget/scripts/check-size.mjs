// Print the widget's files' raw and gzipped sizes; fail when one breaks its budget.
// Usage: node scripts/check-size.mjs <the build's folder: widget.js and chunks/>
// The CSS is inside the JS (inlined strings), so these are everything a page downloads:
// widget.js always, a lazy chunk (README "Lazy chunks") only when the visitor needs it.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

// widget.js: what every page with the widget downloads.
const BUDGET_GZIP_BYTES = 15 * 1024;
// Each lazy chunk, on its own; the window's (app) carries the window's CSS too (lazy/window.css),
// downloaded once by a visitor who opens the chat.
const CHUNK_BUDGET_GZIP_BYTES = 6 * 1024;
const WINDOW_CHUNK_BUDGET_GZIP_BYTES = 8 * 1024;

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/check-size.mjs <folder with widget.js and chunks/>");
  process.exit(2);
}
let chunks = [];
try {
  chunks = readdirSync(join(dir, "chunks")).sort();
} catch {
  // no chunks
}
const files = [
  ["widget.js", BUDGET_GZIP_BYTES],
  ...chunks.map((name) => [
    `chunks/${name}`,
    name.startsWith("app.") ? WINDOW_CHUNK_BUDGET_GZIP_BYTES : CHUNK_BUDGET_GZIP_BYTES,
  ]),
];
const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
let over = false;
for (const [name, budget] of files) {
  const body = readFileSync(join(dir, name));
  // Level 9, as a server or CDN compressing static files would; the budget has room either way.
  const gzipped = gzipSync(body, { level: 9 }).length;
  console.log(
    `${name}: ${body.length} bytes (${kib(body.length)}) raw, ` +
      `${gzipped} bytes (${kib(gzipped)}) gzipped; budget ${budget} bytes gzipped`,
  );
  if (gzipped > budget) {
    console.error(`${name} is ${gzipped - budget} bytes over its gzip budget of ${budget}`);
    over = true;
  }
}
if (over) process.exit(1);
