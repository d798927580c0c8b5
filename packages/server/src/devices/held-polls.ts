/**
 * Held assignments polls, each kept as one small record while it waits. Every agent holds its
 * poll most of the time, so with 10,000 agents 10,000 waits are in progress at any moment, and
 * whatever a wait keeps lives its whole hold (seconds): V8 moves it to the old generation,
 * where it dies once the poll is answered. An async wait of its own per poll (the handler's and
 * the wait's suspended frames, their promises and closures, an abort signal for the hang-up, a
 * timer) kept several KB per poll there; the old generation grew with that churn to a few
 * times what it held alive. Here a wait is one record and its deadline timer, on shared
 * structures: one tick re-checking a slice of the waits at a time, one subscription to every
 * topic (a device's topic wakes its waits), and one callback for every answer. (Node keeps
 * timers of one duration in one list, so a timer per wait is cheap; one timer re-armed for the
 * earliest deadline instead answered the polls measurably later: heartbeat p50 5 -> 10 ms at
 * 10,000 agents.)
 *
 * The same rules as NotifyHub.waitUntil (notify.ts): the version is checked when the wait
 * starts, again at each notification of the device's topic (at once if one comes while a check
 * runs) and on the shared tick once every recheckMs (a notification lost between replicas only
 * delays); the wait ends at its deadline, on end() (the agent hung up) or when the hub closes.
 */
import { type NotifyHub, deviceOfTopic } from "../notify.js";

/** How many parts the waits' re-checks are spread over within each recheck period. */
const RECHECK_SLICES = 10;

export interface HeldPoll<T> {
  readonly deviceId: number;
  readonly since: number;
  /** When the caller heard the device (its own clock; handed back with the answer). */
  readonly heardAt: number;
  readonly slice: number;
  /** Ends the wait at its deadline; cleared with the answer. */
  timer: NodeJS.Timeout | null;
  /** What the answer goes to; null once answered. */
  context: T | null;
  checking: boolean;
  /** Woken while a check ran: check again once it is done. */
  again: boolean;
}

export interface HeldPollsDeps<T> {
  hub: NotifyHub;
  /** Whether the device's version is past `since` now. */
  changed: (deviceId: number, since: number) => Promise<boolean>;
  /** Called once per poll: `changed` true when the device's version passed the poll's, false when the wait ended without (or with the error of a check). */
  answer: (poll: HeldPoll<T>, context: T, changed: boolean, error?: unknown) => void;
  recheckMs?: number;
}

export class HeldPolls<T> {
  private readonly slices: Set<HeldPoll<T>>[] = Array.from({ length: RECHECK_SLICES }, () => new Set());
  private nextSlice = 0;
  private tickSlice = 0;
  private tick: NodeJS.Timeout | null = null;
  /** A device's held polls: the one poll itself (nearly always), or a list. */
  private readonly byDevice = new Map<number, HeldPoll<T> | HeldPoll<T>[]>();
  private closed = false;
  private readonly recheckMs: number;

  constructor(private readonly deps: HeldPollsDeps<T>) {
    this.recheckMs = deps.recheckMs ?? 1000;
    deps.hub.subscribeAll((topic) => {
      if (topic === null) {
        for (const slice of this.slices) for (const poll of [...slice]) this.check(poll);
        return;
      }
      const deviceId = deviceOfTopic(topic);
      if (deviceId !== undefined) this.wake(deviceId);
    });
    deps.hub.subscribe("close", () => this.close());
  }

  /** How many waits are held now. */
  get size(): number {
    let n = 0;
    for (const slice of this.slices) n += slice.size;
    return n;
  }

  /**
   * Waits until `deviceId`'s version passes `since` or `waitMs` passes; then `answer` is
   * called once with `context`. The returned record is what end() takes.
   */
  hold(deviceId: number, since: number, waitMs: number, heardAt: number, context: T): HeldPoll<T> {
    const poll: HeldPoll<T> = {
      deviceId,
      since,
      heardAt,
      slice: this.nextSlice,
      timer: null,
      context,
      checking: false,
      again: false,
    };
    if (waitMs <= 0 || this.closed) {
      // Checked once, not held.
      this.deps.changed(deviceId, since).then(
        (changed) => this.finish(poll, changed),
        (error) => this.finish(poll, false, error),
      );
      return poll;
    }
    this.nextSlice = (this.nextSlice + 1) % RECHECK_SLICES;
    this.slices[poll.slice].add(poll);
    this.tick ??= setInterval(() => this.recheckSlice(), Math.max(1, Math.floor(this.recheckMs / RECHECK_SLICES))).unref();
    const held = this.byDevice.get(deviceId);
    if (held === undefined) this.byDevice.set(deviceId, poll);
    else if (Array.isArray(held)) held.push(poll);
    else this.byDevice.set(deviceId, [held, poll]);
    poll.timer = setTimeout(() => this.finish(poll, false), waitMs);
    this.check(poll);
    return poll;
  }

  /** Ends the wait now (the agent hung up): answered as unchanged, unless answered already. */
  end(poll: HeldPoll<T>): void {
    this.finish(poll, false);
  }

  private wake(deviceId: number): void {
    const held = this.byDevice.get(deviceId);
    if (held === undefined) return;
    // A copy: a check that answers at once removes its poll from the list.
    if (Array.isArray(held)) for (const poll of [...held]) this.check(poll);
    else this.check(held);
  }

  private check(poll: HeldPoll<T>): void {
    if (poll.context === null) return;
    if (poll.checking) {
      poll.again = true;
      return;
    }
    poll.checking = true;
    poll.again = false;
    this.deps.changed(poll.deviceId, poll.since).then(
      (changed) => {
        poll.checking = false;
        if (changed) this.finish(poll, true);
        else if (poll.again) this.check(poll);
      },
      (error) => {
        poll.checking = false;
        this.finish(poll, false, error);
      },
    );
  }

  private finish(poll: HeldPoll<T>, changed: boolean, error?: unknown): void {
    const context = poll.context;
    if (context === null) return;
    poll.context = null;
    if (poll.timer) clearTimeout(poll.timer);
    poll.timer = null;
    if (this.slices[poll.slice].delete(poll)) this.forget(poll);
    this.deps.answer(poll, context, changed, error);
  }

  private forget(poll: HeldPoll<T>): void {
    const held = this.byDevice.get(poll.deviceId);
    if (held === poll) this.byDevice.delete(poll.deviceId);
    else if (Array.isArray(held)) {
      const at = held.indexOf(poll);
      if (at >= 0) held.splice(at, 1);
      if (held.length === 1) this.byDevice.set(poll.deviceId, held[0]);
    }
    if (this.tick && this.slices.every((slice) => slice.size === 0)) {
      clearInterval(this.tick);
      this.tick = null;
    }
  }

  private recheckSlice(): void {
    const due = this.slices[this.tickSlice];
    this.tickSlice = (this.tickSlice + 1) % RECHECK_SLICES;
    for (const poll of due) this.check(poll);
  }

  /** The hub closed (server shutdown): every wait ends now, and later ones are checked once. */
  private close(): void {
    this.closed = true;
    for (const slice of this.slices) for (const poll of [...slice]) this.finish(poll, false);
  }
}
