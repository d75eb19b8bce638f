/** Which of overlapping reads of one list may still apply when it comes back.
 *
 * An admin page reads its list as it opens; a Delete clicked at once can come back before that
 * read does, and the read, answered before the delete, still holds the deleted row. A read
 * applies only if no later read started and no change of this console's own was made since it
 * went out: the later one has the newer word. */
export class LatestRead {
  private version = 0;

  /** A read goes out: the function says, when it is back, whether it may still apply. */
  start(): () => boolean {
    const version = ++this.version;
    return () => version === this.version;
  }

  /** A change made here (the server's answer to it) is newer than every read out now. */
  overtake(): void {
    this.version += 1;
  }
}
