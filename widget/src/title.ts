// Flash the tab title on an agent's reply while the chat is closed or the tab is in the
// background; restored when the chat opens or the tab gets focus.

const FLASH_TEXT = "New message";
const FLASH_MS = 1000;

export class TitleFlasher {
  private saved = "";
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    addEventListener("focus", () => this.stop());
  }

  /** The page's own title, whatever is showing right now. */
  get title(): string {
    return this.timer !== undefined && document.title === FLASH_TEXT ? this.saved : document.title;
  }

  start(): void {
    if (this.timer !== undefined) return;
    const tick = () => {
      const current = document.title;
      if (current === FLASH_TEXT) {
        document.title = this.saved;
      } else {
        this.saved = current; // the page may have changed its title meanwhile
        document.title = FLASH_TEXT;
      }
    };
    tick();
    this.timer = setInterval(tick, FLASH_MS);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (document.title === FLASH_TEXT) document.title = this.saved;
  }
}
