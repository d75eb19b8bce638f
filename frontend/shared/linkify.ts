// Links in a message's text, for the widget and the console alike: only http(s) and mailto
// become links (never javascript:, data: or any other scheme), each checked by the URL parser;
// everything else stays text. The apps render the parts as Preact text nodes and <a> elements
// (rel="noopener noreferrer nofollow", target=_blank), so nothing in a message is parsed as
// markup. Free of imports, like protocol.ts: each app's build compiles it as its own file
// (as `@chat/shared/linkify`).

export type Part = string | { href: string; text: string };

// A scheme the rule allows, then anything up to a space or a character that cannot be in a
// typed link. `\b`: "xhttps://" is not a link, "(https://..." is.
const LINK = /\b(?:https?:\/\/|mailto:)[^\s<>"'`]+/gi;
// Punctuation that ends the sentence rather than the link.
const TRAILING = /[.,;:!?'")\]]$/;

const count = (text: string, char: string) => text.split(char).length - 1;

/** The link's address when it is an http(s) URL with a host, or a mailto: one; else null. */
export function safeHref(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if ((url.protocol === "http:" || url.protocol === "https:") && url.hostname) return url.href;
  return url.protocol === "mailto:" && url.pathname.includes("@") ? url.href : null;
}

/** `text` cut into plain strings and links, in order; joined, the texts are `text` again. */
export function linkify(text: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    let raw = match[0];
    // "(see https://x.org/a_(b))." keeps the ")" that closes one inside the link.
    while (TRAILING.test(raw) && !(raw.endsWith(")") && count(raw, "(") >= count(raw, ")"))) {
      raw = raw.slice(0, -1);
    }
    const href = safeHref(raw);
    const start = match.index ?? 0;
    if (!href || start < at) continue;
    if (start > at) parts.push(text.slice(at, start));
    parts.push({ href, text: raw });
    at = start + raw.length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}
