// Imported by widget/test/widget.test.ts and console/test/console.test.ts (like protocol.test.ts).

import assert from "node:assert/strict";
import { test } from "node:test";
import { linkify, safeHref } from "./linkify";

test("linkify: http(s) and mailto become links, the text around stays text", () => {
  assert.deepEqual(linkify("See https://example.com/a?b=1&c=2, or mail mailto:help@example.com."), [
    "See ",
    { href: "https://example.com/a?b=1&c=2", text: "https://example.com/a?b=1&c=2" },
    ", or mail ",
    { href: "mailto:help@example.com", text: "mailto:help@example.com" },
    ".",
  ]);
  assert.deepEqual(linkify("(http://x.org/wiki/A_(b))"), [
    "(",
    { href: "http://x.org/wiki/A_(b)", text: "http://x.org/wiki/A_(b)" },
    ")",
  ]);
  assert.deepEqual(linkify("no links here"), ["no links here"]);
  assert.deepEqual(linkify(""), []);
});

test("linkify: no other scheme is ever a link", () => {
  for (const text of [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox",
    "xhttps://example.com",
    "https://",
    "mailto:",
    "<a href=\"javascript:alert(1)\">x</a>",
  ]) {
    assert.ok(
      linkify(text).every((part) => typeof part === "string"),
      `${text} gave a link: ${JSON.stringify(linkify(text))}`,
    );
  }
  // A javascript: prefix before an https URL: only the https part is a link.
  assert.deepEqual(linkify("javascript:https://example.com"), [
    "javascript:",
    { href: "https://example.com/", text: "https://example.com" },
  ]);
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.equal(safeHref("https://example.com/\"onmouseover=x"), "https://example.com/%22onmouseover=x");
});
