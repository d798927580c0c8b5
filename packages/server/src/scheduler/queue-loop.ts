import type { FastifyBaseLogger } from "fastify";

export interface QueueLoopOptions {
  /**
   * One queue pass; answers how many runs it placed, or null when it did not run because
   * another pass (another replica's) held the placement lock.
   */
  pass: () => Promise<number | null>;
  /**
   * After a woken pass found the lock held: the wait before trying again (default 50 ms),
   * doubling while the lock stays held, up to periodMs.
   */
  busyRetryMs?: number;
  log: FastifyBaseLogger;
  /** A pass runs at least this often even when nobody wakes the loop. */
  periodMs: number;
  /** Cap on the wait after failed passes (doubling from periodMs); default 32 periods, at most 30 s. */
  maxBackoffMs?: number;
  /**
   * Passes back to back (a deep queue being placed) leave at least this share of the time to
   * everything else: after a pass of d ms the next waits d * (1 - share) / share (default
   * 0.5: as long as the pass took, at most a period).
   */
  servingShare?: number;
  /** The clock a pass's duration and the rest after it are read from (ms); default performance.now. */
  now?: () => number;
}

/**
 * The scheduler's own loop: queue passes run here, one at a time, never inside a request.
 * Requests that free capacity or add runs only wake it (wake()). A pass that throws is
 * logged and tried again after a wait that doubles with each failure in a row, so a broken
 * store is not hammered and no unrelated caller ever sees the error.
 */
export class QueueLoop {
  private woken = false;
  private stopped = true;
  private failures = 0;
  /** Woken passes in a row that found the lock held. */
  private busyInARow = 0;
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private endRest: (() => void) | undefined;
  private running: Promise<void> | undefined;
  /** Wall time of the last pass that ran, and when it ended (on `now`). */
  private lastPassMs = 0;
  private lastPassEnd = 0;
  private readonly now: () => number;

  constructor(private readonly options: QueueLoopOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.woken = true;
    this.running = this.loop();
  }

  /** Asks for a pass soon; calls while one waits or runs fold into the next. */
  wake(): void {
    this.woken = true;
    // While backing off after failures the wait stands: waking must not defeat the backoff.
    if (this.failures === 0) this.wakeUp?.();
  }

  /**
   * Stops after the pass in flight, if any, waiting for it at most `waitMs`: a wedged pass
   * must not keep the server from shutting down.
   */
  async stop(waitMs = 5000): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    this.endRest?.();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([this.running, gaveUp]);
    clearTimeout(timer);
  }

  private async loop(): Promise<void> {
    const { pass, log, periodMs } = this.options;
    const maxBackoff = this.options.maxBackoffMs ?? Math.min(30_000, periodMs * 32);
    while (!this.stopped) {
      if (!this.woken) await this.sleep(this.failures === 0 ? periodMs : Math.min(maxBackoff, periodMs * 2 ** this.failures));
      // Passes back to back still let timers and I/O in between, and requests their share:
      // on SQLite a pass holds the one connection, so without a rest polls and reports
      // queue behind pass after pass while a deep queue is placed.
      else await this.rest(this.restAfterPassMs());
      if (this.stopped) break;
      const wasWoken = this.woken;
      this.woken = false;
      try {
        const began = this.now();
        const placed = await pass();
        this.lastPassEnd = this.now();
        this.lastPassMs = this.lastPassEnd - began;
        // Busy: another pass holds the lock. A periodic pass is left to it (it sees the whole
        // queue), but what woke this loop may have committed after that pass read the store,
        // so a woken pass is tried again shortly.
        // Another replica's pass can take seconds: the retries thin out meanwhile rather than
        // asking for the lock every few milliseconds, and never wait longer than a period.
        if (placed === null && wasWoken && !this.stopped) {
          const first = this.options.busyRetryMs ?? 50;
          await this.sleep(Math.min(Math.max(first, periodMs), first * 2 ** this.busyInARow++));
          this.woken = true;
        } else if (placed !== null) this.busyInARow = 0;
        // A pass looks at the head of each user's queue only: one that placed runs may have
        // left more that fit behind them, so the next pass comes at once.
        if (placed !== null && placed > 0) this.woken = true;
        if (this.failures > 0) log.info({ event: "queue.recovered", failures: this.failures }, "queue pass works again");
        this.failures = 0;
      } catch (err) {
        this.failures++;
        log.error({ err, event: "queue.pass_failed", failures: this.failures }, "queue pass failed; retrying with backoff");
        // The runs still wait: the next try comes after the backoff, woken or not.
        this.woken = false;
      }
    }
  }

  private restAfterPassMs(): number {
    const share = Math.min(1, Math.max(0.05, this.options.servingShare ?? 0.5));
    const owed = Math.min(this.options.periodMs, (this.lastPassMs * (1 - share)) / share);
    // A wake-up long after the last pass owes nothing.
    return owed - (this.now() - this.lastPassEnd);
  }

  /** A wait wake() does not cut short (stop() does); a short one is one turn of the event loop. */
  private rest(ms: number): Promise<void> {
    if (ms < 1) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.endRest = undefined;
        resolve();
      }
      this.endRest = done;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.timer = setTimeout(done, ms);
      this.timer.unref();
    });
  }
}
