import type { Console } from "../console";

const KEYS: [string, string][] = [
  ["j / ↓", "Next conversation"],
  ["k / ↑", "Previous conversation"],
  ["Enter", "Open the selected conversation"],
  ["c", "Claim the open conversation"],
  ["e", "Close the open conversation"],
  ["/", "Write a reply"],
  ["/ in a reply", "Canned responses: ↑ ↓ to choose, Enter or Tab to insert, Esc to close"],
  ["?", "Show or hide this list"],
  ["Esc", "Leave the composer; hide this list"],
];

export function Shortcuts({ c }: { c: Console }) {
  const hide = () => {
    c.showShortcuts = false;
    c.changed();
  };
  return (
    <div class="overlay" onClick={hide}>
      <div
        class="card dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Keyboard shortcuts"
        data-part="shortcuts"
        onClick={(e) => e.stopPropagation()}
      >
        <h2>Keyboard shortcuts</h2>
        <dl class="keys">
          {KEYS.map(([key, what]) => (
            <div key={key}>
              <dt>
                <kbd>{key}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <button type="button" onClick={hide}>
          Close
        </button>
      </div>
    </div>
  );
}
