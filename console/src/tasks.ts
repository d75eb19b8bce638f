// A small queue for background reads (visitor names, row previews): at most `limit` requests
// at once, each key asked once until forgotten, so rendering a list never floods the API
// (600 requests a minute per agent, structures.md "Throttling").

export class TaskQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private readonly asked = new Set<string>();
  private running = 0;

  constructor(private readonly limit: number) {}

  /** Run `task` once for `key`; false when it was asked before. */
  once(key: string, task: () => Promise<void>): boolean {
    if (this.asked.has(key)) return false;
    this.asked.add(key);
    this.waiting.push(task);
    this.pump();
    return true;
  }

  /** Allow `key` to be asked again (its answer went stale, or failed). */
  forget(key: string): void {
    this.asked.delete(key);
  }

  clear(): void {
    this.waiting.length = 0;
    this.asked.clear();
  }

  private pump(): void {
    while (this.running < this.limit && this.waiting.length > 0) {
      const task = this.waiting.shift();
      if (!task) break;
      this.running += 1;
      void task()
        .catch(() => {})
        .finally(() => {
          this.running -= 1;
          this.pump();
        });
    }
  }
}
