// Unit tests of ui/lazy.tsx's Chunk (README "What loads when"): one fetch however many pages
// ask, and a failure kept (Retry reloads the console: tests/browser/test_console_chunks.py).
// Imported by console.test.ts, so `npm test` runs it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Chunk } from "../src/ui/lazy";

test("a chunk is fetched once however many ask; a failure is kept", async () => {
  let fetches = 0;
  const failing = new Chunk<{ page: string }>(() => {
    fetches++;
    return Promise.reject(new TypeError("Failed to fetch dynamically imported module"));
  });
  await Promise.all([failing.load(), failing.load()]);
  assert.equal(fetches, 1);
  assert.equal(failing.module, null);
  assert.equal(failing.failed, true);
  await failing.load(); // a page shown again after the failure: still failed, not asked again
  assert.equal(fetches, 1);

  const chunk = new Chunk(() => {
    fetches++;
    return Promise.resolve({ page: "agents" });
  });
  await Promise.all([chunk.load(), chunk.load()]);
  assert.equal(fetches, 2);
  assert.deepEqual(chunk.module, { page: "agents" });
  assert.equal(chunk.failed, false);
  await chunk.load(); // loaded: kept, never fetched again
  assert.equal(fetches, 2);
});
