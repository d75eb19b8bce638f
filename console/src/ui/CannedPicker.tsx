import { useState } from "preact/hooks";
import {
  type CannedResponse,
  expandPlaceholders,
  filterCanned,
  insertAt,
  type PlaceholderValues,
  type SlashQuery,
  slashQuery,
} from "../canned";
import type { Console } from "../console";

// The list typing "/" opens in the composer (a listbox the textarea drives through
// aria-activedescendant: focus stays in the textarea while Up/Down move the choice).
export const PICKER_ID = "canned-picker";
const optionId = (id: string) => `canned-option-${id}`;
// The preview shows the start of the content as it would be inserted here.
const PREVIEW_CHARS = 90;

export interface Picker {
  /** The open list's matches (empty: closed). */
  matches: CannedResponse[];
  active: CannedResponse | undefined;
  /** Attributes for the textarea. */
  aria: Record<string, string | undefined>;
  /** Call after the text or the caret changed. */
  update: (el: HTMLTextAreaElement) => void;
  /** A key in the textarea: true when the picker used it. */
  onKeyDown: (e: KeyboardEvent) => boolean;
  choose: (r: CannedResponse) => void;
  /** The content with this conversation's placeholder values. */
  expand: (r: CannedResponse) => string;
}

/** The picker's state for one composer. `values` gives what placeholders expand to; `put`
 * stores the composer's new text (its draft) and puts the caret. */
export function useCannedPicker(
  c: Console,
  values: () => PlaceholderValues,
  put: (text: string, caret: number) => void,
): Picker {
  const [slash, setSlash] = useState<SlashQuery | null>(null);
  const [text, setText] = useState("");
  const [caret, setCaret] = useState(0);
  const [index, setIndex] = useState(0);
  // Escape closes the list until another "/" starts one.
  const [dismissed, setDismissed] = useState<number | null>(null);

  const open = slash !== null && slash.start !== dismissed;
  const matches = open ? filterCanned(c.canned.items, slash.query) : [];
  const at = Math.min(index, Math.max(0, matches.length - 1));
  const active = matches[at];

  const update = (el: HTMLTextAreaElement) => {
    const found = el.selectionStart === el.selectionEnd ? slashQuery(el.value, el.selectionEnd) : null;
    if (found?.query !== slash?.query || found?.start !== slash?.start) setIndex(0);
    if (found && found.start !== dismissed) c.canned.ensure();
    if (!found) setDismissed(null);
    setSlash(found);
    setText(el.value);
    setCaret(el.selectionEnd);
  };

  const expand = (r: CannedResponse) => expandPlaceholders(r.content, values());
  const choose = (r: CannedResponse) => {
    if (!slash) return;
    const next = insertAt(text, slash.start, caret, expand(r));
    setSlash(null);
    put(next.text, next.caret);
  };

  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!open || e.isComposing) return false;
    if (e.key === "Escape") {
      setDismissed(slash.start);
      return true;
    }
    if (!active) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      const step = e.key === "ArrowDown" ? 1 : -1;
      setIndex((at + step + matches.length) % matches.length);
      return true;
    }
    if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      choose(active);
      return true;
    }
    return false;
  };

  const shown = matches.length > 0;
  return {
    matches,
    active,
    update,
    onKeyDown,
    choose,
    expand,
    aria: {
      "aria-autocomplete": "list",
      "aria-controls": shown ? PICKER_ID : undefined,
      "aria-activedescendant": shown && active ? optionId(active.id) : undefined,
    },
  };
}

/** The open list under the composer, or nothing. */
export function CannedList({ picker }: { picker: Picker }) {
  if (picker.matches.length === 0) return null;
  return (
    <ul id={PICKER_ID} class="canned-picker" role="listbox" aria-label="Canned responses">
      {picker.matches.map((r) => {
        const selected = r === picker.active;
        return (
          <li
            key={r.id}
            id={optionId(r.id)}
            role="option"
            aria-selected={selected}
            class={selected ? "canned-option active" : "canned-option"}
            data-part="canned-option"
            data-shortcut={r.shortcut}
            // mousedown, not click: the textarea keeps its focus and caret.
            onMouseDown={(e) => {
              e.preventDefault();
              picker.choose(r);
            }}
            ref={(el) => {
              if (selected) el?.scrollIntoView({ block: "nearest" });
            }}
          >
            <span class="canned-shortcut">/{r.shortcut}</span>
            <span class="canned-title">{r.title}</span>
            {r.scope === "personal" ? <span class="canned-scope">personal</span> : null}
            <span class="canned-preview">{preview(picker.expand(r))}</span>
          </li>
        );
      })}
    </ul>
  );
}

function preview(content: string): string {
  const flat = content.replace(/\s+/g, " ").trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}
