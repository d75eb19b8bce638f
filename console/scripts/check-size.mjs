// Print the console bundle's raw and gzipped sizes; fail when it breaks the budget.
// Usage: node scripts/check-size.mjs <directory holding console.js and console.css>
// The budget is generous (the console is an app, loaded once per agent), but it stops a heavy
// dependency from slipping in unnoticed: Preact and its hooks are all this needs.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

// 40 KiB, plus 2 KiB for issue 17's appearance editor, the agent's picture and the links
// (main's build: 42,536 bytes), plus 2 KiB for its business hours editor, the ratings in the
// conversation view and the space summary, with their catalogue texts (44,228 bytes merged):
// no dependency, only the new pages' own code.
const BUDGET_GZIP_BYTES = 44 * 1024;
const FILES = ["console.js", "console.css"];

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/check-size.mjs <dir with console.js and console.css>");
  process.exit(2);
}
const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
let total = 0;
for (const name of FILES) {
  const body = readFileSync(join(dir, name));
  // Level 9, as a server or CDN compressing static files would.
  const gzipped = gzipSync(body, { level: 9 }).length;
  total += gzipped;
  console.log(
    `${name}: ${body.length} bytes (${kib(body.length)}) raw, ${gzipped} bytes (${kib(gzipped)}) gzipped`,
  );
}
console.log(
  `console total: ${total} bytes (${kib(total)}) gzipped; budget ${BUDGET_GZIP_BYTES} bytes`,
);
if (total > BUDGET_GZIP_BYTES) {
  console.error(
    `the console is ${total - BUDGET_GZIP_BYTES} bytes over its gzip budget of ${BUDGET_GZIP_BYTES}`,
  );
  process.exit(1);
}
