import type { Clock } from "../clock.js";

/**
 * How long things that started at a stored wall-clock time have lasted, on the monotonic clock.
 *
 * Starts are stored as wall-clock epoch ms (every replica reads them), but the wall clock may
 * step: measured as `wall now - start`, a step of +1 h would make every running part look an
 * hour more expensive and stop its owner's runs early. So each thing is measured on the wall
 * clock once, when this process first sees it, and from then on by the monotonic clock alone.
 * A step before that first sight (the server was down meanwhile) still counts; the final
 * charge is capped by the agent's own monotonic runtime either way.
 */
export class SteadySpans {
  private readonly seen = new Map<string, { mono: number; span: number }>();

  constructor(private readonly clock: Clock) {}

  /** Milliseconds `key`, started at `startedAt` (wall ms), has lasted. */
  spanOf(key: string, startedAt: number): number {
    const mono = this.clock.mono();
    let first = this.seen.get(key);
    if (!first) {
      first = { mono, span: Math.max(0, this.clock.wall() - startedAt) };
      this.seen.set(key, first);
    }
    return first.span + Math.max(0, mono - first.mono);
  }

  /** Forgets everything but `live` (what ended is never asked about again). */
  keepOnly(live: ReadonlySet<string>): void {
    for (const key of this.seen.keys()) if (!live.has(key)) this.seen.delete(key);
  }

  /**
   * `rows` with each `started_at` moved so that `now - started_at` is its steady span: what the
   * pure cost functions, which measure up to `now`, then bill.
   */
  rebase<T extends { started_at: number | null }>(rows: readonly T[], keyOf: (row: T) => string, now: number): T[] {
    return rows.map((row) =>
      row.started_at === null ? row : { ...row, started_at: now - this.spanOf(keyOf(row), row.started_at) },
    );
  }
}
