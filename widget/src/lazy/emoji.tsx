// The emoji picker, a lazy chunk (README "Lazy chunks"): fetched when the visitor first presses
// the composer's emoji button. A curated set of common emoji in a few groups; every option is a
// button whose name is the emoji itself (screen readers say its Unicode name). Keyboard: focus
// starts on the first emoji, arrows move (a roving tabindex, so Tab leaves the picker), Home and
// End jump, Enter or Space picks, Escape closes; the composer puts focus back in the input.

import { Component } from "preact";
import { t } from "../i18n";
import type { Key } from "../locales/en";
import css from "./emoji.css?inline";

export { css };

const COLUMNS = 8;

// [group label, emoji separated by spaces]: 40 + 24 + 24 + 32 = 120.
const GROUPS: [Key, string][] = [
  [
    "smileys",
    "😀 😃 😄 😁 😆 😅 😂 🤣 😊 😇 🙂 🙃 😉 😌 😍 🥰 😘 😋 😛 😜 🤪 🤔 🤨 😐 😑 😶 🙄 😏 😬 😴 😷 🤒 🥳 😎 🤓 😕 😟 😢 😭 😡",
  ],
  ["gestures", "👍 👎 👌 ✌️ 🤞 🤝 👏 🙌 👋 🙏 💪 👀 ✋ 🤚 👊 ✊ 🤘 🤙 👈 👉 👆 👇 ☝️ 🤷"],
  ["symbols", "❤️ 🧡 💛 💚 💙 💜 🖤 💔 💯 ✅ ❌ ❓ ❗ ⚠️ ⭐ 🔥 ✨ 🎉 🎁 💡 💬 🔔 ⏰ ⌛"],
  [
    "things",
    "☕ 🍕 🍔 🍰 🍺 🍷 🎂 🍎 📦 🛒 💳 💰 📱 💻 🖥️ 📧 📞 📅 📎 🔒 🔑 🏠 🚗 ✈️ 🚚 🌍 ☀️ 🌧️ ❄️ 🌈 🐶 🐱",
  ],
];

export interface EmojiPickerProps {
  /** An emoji was chosen: insert it (the picker closes itself through onClose after). */
  onPick(emoji: string): void;
  onClose(): void;
}

export default class EmojiPicker extends Component<EmojiPickerProps> {
  override componentDidMount(): void {
    this.options()[0]?.focus();
  }

  private options(): HTMLButtonElement[] {
    return [...((this.base as HTMLElement | undefined)?.querySelectorAll("button") ?? [])];
  }

  private onKeyDown = (event: KeyboardEvent): void => {
    const options = this.options();
    const at = options.indexOf(event.target as HTMLButtonElement);
    const step: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: COLUMNS,
      ArrowUp: -COLUMNS,
      Home: -at,
      End: options.length - 1 - at,
    };
    if (event.key === "Escape") {
      event.stopPropagation(); // the window's own Escape would close the chat
      this.props.onClose();
    } else if (event.key in step && at >= 0) {
      event.preventDefault();
      const next = options[Math.min(options.length - 1, Math.max(0, at + step[event.key]!))]!;
      options[at]!.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  };

  override render() {
    return (
      <div class="emoji" data-part="emoji-picker" role="dialog" aria-label={t("emojiPicker")} onKeyDown={this.onKeyDown}>
        {GROUPS.map(([label, list], group) => (
          <div role="group" aria-label={t(label)}>
            <p class="emoji-group">{t(label)}</p>
            {list.split(" ").map((emoji, at) => (
              <button
                type="button"
                data-part="emoji-option"
                tabIndex={group === 0 && at === 0 ? 0 : -1}
                onClick={() => {
                  this.props.onPick(emoji);
                  this.props.onClose();
                }}
              >
                {emoji}
              </button>
            ))}
          </div>
        ))}
      </div>
    );
  }
}
