import { useEffect, useRef } from "preact/hooks";
import { alsoHere, names } from "../colleagues";
import type { Console } from "../console";

/** In the open thread's header: the other agents viewing it, and colleagues typing in it. */
export function AlsoHere({ c, id }: { c: Console; id: string }) {
  const viewing = alsoHere(c, id);
  const typing = c.colleagues.typingIn(id);
  if (viewing.length === 0 && typing.length === 0) return null;
  return (
    <span class="also-here" aria-live="polite">
      {viewing.length > 0 ? <span data-part="also-here">Also here: {names(viewing)}</span> : null}
      {typing.length > 0 ? (
        <span data-part="colleague-typing">
          {names(typing)} {typing.length > 1 ? "are" : "is"} typing…
        </span>
      ) : null}
    </span>
  );
}

/** A row's marker: the initials of the other agents viewing that thread. */
export function RowViewers({ c, id }: { c: Console; id: string }) {
  const viewing = alsoHere(c, id);
  if (viewing.length === 0) return null;
  const label = `Viewing: ${names(viewing)}`;
  return (
    <span class="row-viewers" data-part="row-viewers" title={label} aria-label={label}>
      {viewing.map((name) => [...name][0]?.toUpperCase() ?? "?").join("")}
    </span>
  );
}

/** Above the composer of a thread another agent holds: who holds it and, once the agent tries
 * to send, an inline question before the first reply goes out (later ones go straight). */
export function AssignedNotice({
  holder,
  confirming,
  confirm,
  cancel,
}: {
  holder: string;
  confirming: boolean;
  confirm: () => void;
  cancel: () => void;
}) {
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) button.current?.focus(); // Enter again confirms
  }, [confirming]);
  return (
    <div class="assigned-notice" data-part="assigned-notice">
      <span>Assigned to {holder}</span>
      {confirming ? (
        <span class="reply-confirm" data-part="reply-confirm" role="alert">
          <span>Reply in {holder}'s conversation anyway?</span>
          <button
            type="button"
            class="primary"
            ref={button}
            data-part="reply-confirm-send"
            onClick={confirm}
          >
            Reply anyway
          </button>
          <button type="button" class="quiet" data-part="reply-confirm-cancel" onClick={cancel}>
            Cancel
          </button>
        </span>
      ) : null}
    </div>
  );
}
