/**
 * Group commit: changes asked for together are applied in one transaction, and each caller
 * is answered with its own outcome once that transaction has ended. A transaction's fixed
 * costs (BEGIN, the placement lock, COMMIT with its log write) are then paid once per group
 * instead of once per change.
 *
 * Nothing waits on a timer: the first change starts a group on the next turn of the event
 * loop (so that the requests read in the same turn join it), and the changes asked for while
 * a group is being applied form the next one. An idle server thus answers a lone change as
 * soon as before; a busy one gathers more per transaction the busier it is.
 */

/** One change's outcome within its group: its own answer, or its own error. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export class GroupCommit<T, R> {
  private waiting: { item: T; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  private draining = false;

  /**
   * `apply` applies a group (in one transaction) and answers one outcome per item, in order.
   * `maxGroup` bounds a group: a transaction holding the lock for a huge group would keep
   * everything else waiting.
   */
  constructor(
    private readonly apply: (items: T[]) => Promise<Outcome<R>[]>,
    private readonly maxGroup = 64,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, this.maxGroup);
        let outcomes: Outcome<R>[];
        try {
          outcomes = await this.apply(group.map((g) => g.item));
        } catch (error) {
          outcomes = group.map(() => ({ ok: false, error }));
        }
        group.forEach((g, i) => {
          const outcome = outcomes[i];
          if (outcome?.ok) g.resolve(outcome.value);
          else g.reject(outcome ? outcome.error : new Error("the group commit gave no answer for this change"));
        });
      }
    } finally {
      this.draining = false;
    }
  }
}
