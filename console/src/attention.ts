// Getting the agent's attention while the tab is not in front: a desktop notification and a
// short chime for a new thread or a visitor's message, once the agent has switched alerts on
// (a button: browsers only grant notifications and sound after a user gesture). The chime is
// synthesised with the Web Audio API, so there is no audio file to serve.

const STORE_KEY = "chat-console:alerts";
const BASE_TITLE = "Console";
// At most one chime this often, however many messages arrive at once (e.g. a replay).
const CHIME_GAP_MS = 1500;

export function titleFor(unread: number): string {
  return unread > 0 ? `(${unread}) ${BASE_TITLE}` : BASE_TITLE;
}

/** True when the agent is not looking at this tab. */
export function unfocused(): boolean {
  return document.visibilityState !== "visible" || !document.hasFocus();
}

type Permission = NotificationPermission | "unsupported";

export class Attention {
  enabled = false;
  private audio: AudioContext | null = null;
  private lastChime = 0;

  constructor(private readonly storage: Storage | null) {
    try {
      this.enabled = storage?.getItem(STORE_KEY) === "on";
    } catch {
      this.enabled = false;
    }
  }

  permission(): Permission {
    return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
  }

  /** The button: ask for notifications and unlock sound (must run inside the click). */
  async enable(): Promise<void> {
    this.enabled = true;
    this.save();
    this.unlock();
    if (this.permission() === "default") {
      try {
        await Notification.requestPermission();
      } catch {
        // an old callback-only implementation, or refused: the chime still plays
      }
    }
  }

  disable(): void {
    this.enabled = false;
    this.save();
  }

  /** Any user gesture lets an AudioContext start; keep one ready while alerts are on. */
  unlock(): void {
    if (!this.enabled) return;
    try {
      const Ctx =
        globalThis.AudioContext ??
        (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
      if (!Ctx) return;
      this.audio ??= new Ctx();
      if (this.audio.state === "suspended") void this.audio.resume();
    } catch {
      this.audio = null;
    }
  }

  /** Notify and chime, if alerts are on and the agent is looking elsewhere. */
  alert(title: string, body: string, tag: string, onClick: () => void): void {
    if (!this.enabled || !unfocused()) return;
    this.chime();
    if (this.permission() !== "granted") return;
    try {
      const n = new Notification(title, { body: body.slice(0, 200), tag });
      n.onclick = () => {
        window.focus();
        onClick();
        n.close();
      };
    } catch {
      // e.g. Chrome on Android wants a service worker for notifications: the chime did its job
    }
  }

  /** Two short sine notes, rising: noticeable, not alarming. */
  chime(): void {
    const ctx = this.audio;
    const now = Date.now();
    if (!ctx || ctx.state !== "running" || now - this.lastChime < CHIME_GAP_MS) return;
    this.lastChime = now;
    const start = ctx.currentTime + 0.01;
    [660, 880].forEach((freq, i) => {
      const t = start + i * 0.14;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.25);
    });
  }

  private save(): void {
    try {
      this.storage?.setItem(STORE_KEY, this.enabled ? "on" : "off");
    } catch {
      // storage disabled: on for this page only
    }
  }
}
