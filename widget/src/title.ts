// Flash the tab title on an agent's reply while the chat is closed or the tab is in the
// background; restored when the chat opens or the tab gets focus.

import { t } from "./i18n";

const FLASH_MS = 1000;

export class TitleFlasher {
  private saved = "";
  /** "New message" in the widget's language when the flashing started. */
  private flash = "";
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    addEventListener("focus", () => this.stop());
  }

  /** The page's own title, whatever is showing right now. */
  get title(): string {
    return this.timer !== undefined && document.title === this.flash ? this.saved : document.title;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.flash = t("newMessage");
    const tick = () => {
      const current = document.title;
      if (current === this.flash) {
        document.title = this.saved;
      } else {
        this.saved = current; // the page may have changed its title meanwhile
        document.title = this.flash;
      }
    };
    tick();
    this.timer = setInterval(tick, FLASH_MS);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (document.title === this.flash) document.title = this.saved;
  }
}
