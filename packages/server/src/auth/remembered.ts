/**
 * Acceptances remembered between requests: what a credential stands for, kept for at most
 * `ttlMs` (monotonic time, so a wall-clock step neither keeps nor drops entries), at most
 * `max` of them (the oldest goes first). Refusals are never kept: a credential is looked up
 * again until it is accepted. forgetAll() drops every entry, and a lookup begun before it
 * does not store its answer (it may have read the row from before the change).
 */
export class Remembered<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** What `key` stands for: remembered while `fresh` holds for it, else `lookup` (undefined: refused). */
  async get(
    key: string,
    lookup: () => Promise<T | undefined>,
    fresh: (value: T) => boolean = () => true,
  ): Promise<T | undefined> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.monotonic() && fresh(hit.value)) return hit.value;
    this.entries.delete(key);
    const generation = this.generation;
    const value = await lookup();
    if (value !== undefined && generation === this.generation) {
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value, until: this.monotonic() + this.ttlMs });
    }
    return value;
  }

  forgetAll(): void {
    this.generation++;
    this.entries.clear();
  }
}
