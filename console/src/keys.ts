// Keyboard shortcuts of the inbox (the list is shown by "?"). None fires while typing in a
// field, or with Ctrl, Alt or Meta held (those belong to the browser).

import type { Console } from "./console";
import { isOpen } from "./protocol";

function typingInField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.tagName !== "string") return false;
  return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
}

function rowElement(id: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(
    `[data-part=thread-row][data-thread-id="${CSS.escape(id)}"]`,
  );
}

/** Move the list's keyboard place by `step` rows and bring it into view. */
function move(c: Console, step: number): void {
  const rows = c.visible();
  if (rows.length === 0) return;
  const from = c.focusId ?? c.openId;
  const at = rows.findIndex((t) => t.id === from);
  const next =
    at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + step));
  const id = rows[next]?.id;
  if (!id) return;
  c.focusId = id;
  c.changed();
  queueMicrotask(() => {
    const el = rowElement(id);
    el?.focus({ preventScroll: true });
    el?.scrollIntoView({ block: "nearest" });
  });
}

export function onKey(c: Console, e: KeyboardEvent): void {
  if (!c.me || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (typingInField(e.target)) return;
  if (c.showShortcuts) {
    if (e.key === "Escape" || e.key === "?") {
      e.preventDefault();
      c.showShortcuts = false;
      c.changed();
    }
    return;
  }
  if (e.key === "?") {
    e.preventDefault();
    c.showShortcuts = true;
    c.changed();
    return;
  }
  if (c.view !== "inbox") return;
  const open = c.openId ? c.threads.get(c.openId) : undefined;
  switch (e.key) {
    case "j":
    case "ArrowDown":
      e.preventDefault();
      move(c, 1);
      return;
    case "k":
    case "ArrowUp":
      e.preventDefault();
      move(c, -1);
      return;
    case "Enter": {
      // On another button, Enter is that button's.
      const el = e.target as HTMLElement | null;
      const onRow = el?.closest?.("[data-part=thread-row]");
      if (el && el !== document.body && !onRow) return;
      if (!c.focusId) return;
      e.preventDefault();
      c.openThread(c.focusId);
      return;
    }
    case "c":
      if (open && c.canClaim(open)) {
        e.preventDefault();
        void c.outbox.claim(open.id);
      }
      return;
    case "e":
      if (open && isOpen(open.status)) {
        e.preventDefault();
        if (window.confirm("Close this conversation?")) void c.outbox.close(open.id);
      }
      return;
    case "/": {
      const composer = document.querySelector<HTMLTextAreaElement>("[data-part=composer]");
      if (composer && !composer.disabled) {
        e.preventDefault();
        composer.focus();
      }
      return;
    }
  }
}
