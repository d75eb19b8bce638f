// `ChatWidget.on(event, fn)`: listeners are the host page's code, so one that throws must not
// break the widget (nor another listener).

type Listener = (value?: unknown) => void;

export class Emitter {
  private readonly listeners = new Map<string, Set<Listener>>();

  on(event: string, fn: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  emit(event: string, value?: unknown): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        fn(value);
      } catch {
        // the host page's listener failed; it is not ours to report
      }
    }
  }
}
