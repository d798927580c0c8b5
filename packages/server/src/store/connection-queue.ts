/**
 * A lock handed to its waiters one at a time, in the order they asked. Kysely's SQLite
 * driver guards its one connection with a mutex whose every release wakes all waiters, of
 * which one wins and the rest wait again: with thousands of requests waiting on the
 * connection (a fleet's polls queued behind a queue pass's transaction) each release costs
 * thousands of wake-ups, and the server spent more CPU waking waiters than running queries.
 */
export class ConnectionQueue {
  private held = false;
  private waiters: (() => void)[] = [];
  /** Index of the next waiter: shifting a long array on every release would copy it. */
  private head = 0;

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    if (this.head < this.waiters.length) {
      const next = this.waiters[this.head];
      this.waiters[this.head++] = noop;
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters = this.waiters.slice(this.head);
        this.head = 0;
      }
      // Still held: ownership passes straight to the next waiter.
      next();
      return;
    }
    this.waiters = [];
    this.head = 0;
    this.held = false;
  }

  /** Waiting now (for tests and metrics). */
  get waiting(): number {
    return this.waiters.length - this.head;
  }
}

function noop(): void {}
