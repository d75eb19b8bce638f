// A message's text with its http(s) and mailto links clickable, the same rule as the widget's
// (frontend/shared/linkify.ts): no other scheme is ever a link, and the rest stays a text node.

import { linkify } from "@chat/shared/linkify";

export function Linked({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((part) =>
        typeof part === "string" ? (
          part
        ) : (
          <a data-part="link" href={part.href} target="_blank" rel="noopener noreferrer nofollow">
            {part.text}
          </a>
        ),
      )}
    </>
  );
}
