// Unit tests of the shared wire vocabulary. Both apps' test files import this one, so it runs
// under each app's build (`npm test` in widget/ and in console/).

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compareIds,
  fitsFrame,
  isOpen,
  MAX_CONTENT_CHARS,
  MAX_FRAME_BYTES,
  newClientId,
  THREAD_STATUSES,
} from "./protocol";

test("ids order numerically, not as text", () => {
  assert.ok(compareIds("9-0", "10-0") < 0);
  assert.ok(compareIds("10-2", "10-10") < 0);
  assert.equal(compareIds("5-1", "5-1"), 0);
});

test("a thread is open while unassigned or active", () => {
  assert.deepEqual(THREAD_STATUSES.filter(isOpen), ["unassigned", "active"]);
});

test("a frame at the server's 48 KiB limit is never sent; the longest message fits", () => {
  const limit = 48 * 1024;
  assert.ok(MAX_FRAME_BYTES < limit);
  const envelope = new TextEncoder().encode(JSON.stringify({ content: "" })).length;
  const at = (bytes: number) => ({ content: "x".repeat(bytes - envelope) });
  assert.ok(fitsFrame(at(MAX_FRAME_BYTES)));
  assert.ok(!fitsFrame(at(MAX_FRAME_BYTES + 1)));
  assert.ok(!fitsFrame(at(limit)));
  // Bytes, not characters: 4 UTF-8 bytes each, in the larger (the console's) message frame.
  const id = "00000000-0000-4000-8000-000000000000";
  const content = "\u{1F600}".repeat(MAX_CONTENT_CHARS);
  assert.ok(fitsFrame({ type: "message", thread_id: id, client_id: id, content }));
  // Control characters, which JSON.stringify escapes to 6 bytes each (\u0001), fit too.
  const control = "\u0001".repeat(MAX_CONTENT_CHARS);
  assert.ok(fitsFrame({ type: "message", thread_id: id, client_id: id, content: control }));
  const four = `${content}${content}${content}`;
  assert.ok(!fitsFrame({ type: "message", client_id: id, content: `${four}${four}` }));
});

test("client ids are UUIDs, also where randomUUID is missing (plain http pages)", () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(newClientId(), uuid);
  const crypto = globalThis.crypto as { randomUUID?: unknown };
  crypto.randomUUID = undefined; // an own property shadowing the prototype's method
  try {
    assert.match(newClientId(), uuid);
  } finally {
    delete crypto.randomUUID;
  }
  assert.notEqual(newClientId(), newClientId());
});
