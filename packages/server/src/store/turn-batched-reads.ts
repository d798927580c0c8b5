/**
 * Point reads by id asked for in one turn of the event loop, made as one read per CHUNK ids.
 * The held polls ask for their devices' rows a few at a time all the time (a re-check tick's
 * slice, the answers of one expiry slot): one statement for the lot instead of one each saves
 * the statement's own cost and the query path's (kysely, the connection queue) per read.
 */
const CHUNK = 1000;

type Waiter<V> = { resolve: (value: V | undefined) => void; reject: (error: unknown) => void };

export class TurnBatchedReads<V> {
  private asked = new Map<number, Waiter<V>[]>();
  private scheduled = false;

  /** @param readMany the values of these ids (at most CHUNK; an id without one is absent) */
  constructor(private readonly readMany: (ids: number[]) => Promise<Map<number, V>>) {}

  /** The value of `id`, read with the others asked for in this turn; undefined when there is none. */
  read(id: number): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.asked.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.asked.set(id, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const asked = this.asked;
    this.asked = new Map();
    this.scheduled = false;
    const ids = [...asked.keys()];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      try {
        const found = await this.readMany(chunk);
        for (const id of chunk) for (const w of asked.get(id) ?? []) w.resolve(found.get(id));
      } catch (error) {
        for (const id of chunk) for (const w of asked.get(id) ?? []) w.reject(error);
      }
    }
  }
}
