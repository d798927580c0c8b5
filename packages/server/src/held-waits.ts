/**
 * Waits held on notifications, each kept as one small record while it waits. Long polls are
 * held for seconds, and whatever a wait keeps lives that long: V8 moves it to the old
 * generation, where it dies once the wait ends. An async wait of its own per poll (suspended
 * frames, their promises and closures, an abort listener, a timer of its own on a shared
 * list) kept several KB there per wait; with 10,000 agents each holding its poll, the old
 * generation grew with that churn to a few times what it held alive. Here a wait is its
 * record alone, on structures shared by every wait of one set: one subscription to every
 * topic, one re-check tick, one expiry timer, one check and one end callback.
 *
 * The rules every wait keeps: it is checked when it starts, again at each notification of its
 * topic (at once if one comes while a check runs: the check may have read before the change),
 * and on the shared tick once every recheckMs (a notification lost between replicas only
 * delays); it ends when a check says so, at its deadline, on end(), when the shared tick finds
 * its client gone (`gone`: a hang-up, found within goneCheckMs with no listener of its own per
 * wait), or when the notifications' source closes. Asking whether a client hung up costs
 * nothing and a re-check is a read, so the two have periods of their own.
 *
 * Deadlines are kept in slots of EXPIRY_SLOT_MS on the monotonic clock, each wait in the first
 * slot that starts at or after its deadline, with one timer for the earliest slot: the waits
 * of one slot end in one turn of the event loop. A timer per wait ended each in a turn of its
 * own (a wake-up of the loop, about 40 us of CPU here, for every heartbeat), or, for waits
 * taken on in one turn (node starts them all at that turn's time), all together however many.
 */

/** The re-check period, and the hang-up check's, unless the deps say otherwise. */
const DEFAULT_PERIOD_MS = 1_000;

/** How many parts the waits' re-checks are spread over within each recheck period. */
const RECHECK_SLICES = 10;

/**
 * The deadlines' granularity (ms): a wait ends at most this much after its deadline, and the
 * waits due within one slot end together. At 10,000 agents (a thousand polls a second) about
 * ten answers at a time, a few ms of the event loop.
 */
export const EXPIRY_SLOT_MS = 10;

/** How many slots past the last one due are looked at one by one for the next held; past them, the least held is found among all. */
const NEAR_SLOTS = 100;

/** Where the notifications come from (notify.ts's NotifyHub). */
export interface WakeSource {
  /** Every topic notified, and null when notifications may have been missed. */
  subscribeAll(listener: (topic: string | null) => void): () => void;
  subscribe(topic: string, listener: () => void): () => void;
}

/** One wait's own state; a caller's record of what the wait is for extends it. */
export class HeldWait {
  /** Which re-check slice holds it (set by hold). */
  slice = -1;
  /** Which expiry slot holds it (set by hold; -1 when not held). */
  expirySlot = -1;
  /** How long it is held at most (ms, whole): from hold to its slot's start. */
  holdMs = 0;
  ended = false;
  checking = false;
  /** Woken while a check ran: check again once it is done. */
  again = false;

  /** @param topic notifications of this topic re-check the wait */
  constructor(readonly topic: string) {}
}

export interface HeldWaitsDeps<W extends HeldWait> {
  source: WakeSource;
  /** Whether what the wait is for has come (true ends it). */
  check: (wait: W) => Promise<boolean>;
  /**
   * Called once per wait when it ends: `met` true when a check said so; false at its
   * deadline, end(), its client gone, the source's close, or a failed check (with its error).
   */
  ended: (wait: W, met: boolean, error?: unknown) => void;
  /** Whether the wait's client is gone (it hung up): asked on the shared tick; true ends the wait. */
  gone?: (wait: W) => boolean;
  /** How often a wait is checked again without a notification (default DEFAULT_PERIOD_MS). */
  recheckMs?: number;
  /** How often `gone` is asked of each wait (default: recheckMs or DEFAULT_PERIOD_MS, whichever is shorter). */
  goneCheckMs?: number;
}

/** A set of held waits sharing one subscription, one re-check tick and one pair of callbacks. */
export class HeldWaits<W extends HeldWait> {
  private readonly slices: Set<W>[] = Array.from({ length: RECHECK_SLICES }, () => new Set());
  private nextSlice = 0;
  private tickSlice = 0;
  /** Full turns of the tick over the slices so far. */
  private turns = 0;
  private tick: NodeJS.Timeout | null = null;
  /** Expiry slot (its start / EXPIRY_SLOT_MS on performance.now()) -> the waits ending then. */
  private readonly expiring = new Map<number, Set<W>>();
  /** The slot the expiry timer is set for (Infinity: none set). */
  private armedSlot = Number.POSITIVE_INFINITY;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** A topic's held waits: the one wait itself (nearly always), or a list. */
  private readonly byTopic = new Map<string, W | W[]>();
  private closed = false;
  /** One turn of the tick over every slice. */
  private readonly turnMs: number;
  /** A slice's waits are re-checked on one turn in this many (spread over the slices). */
  private readonly recheckEvery: number;

  constructor(private readonly deps: HeldWaitsDeps<W>) {
    const recheckMs = deps.recheckMs ?? DEFAULT_PERIOD_MS;
    this.turnMs = deps.gone ? Math.min(recheckMs, deps.goneCheckMs ?? DEFAULT_PERIOD_MS) : recheckMs;
    this.recheckEvery = Math.max(1, Math.round(recheckMs / this.turnMs));
    deps.source.subscribeAll((topic) => {
      if (topic === null) for (const slice of this.slices) for (const wait of [...slice]) this.check(wait);
      else this.wake(topic);
    });
    deps.source.subscribe("close", () => this.close());
  }

  /** How many waits are held now. */
  get size(): number {
    let n = 0;
    for (const slice of this.slices) n += slice.size;
    return n;
  }

  /**
   * Holds `wait` for up to `waitMs`, rounded up to its expiry slot (`wait.holdMs`; checked once
   * and not held when that is 0 or the source has closed); `ended` is called once for it.
   */
  hold(wait: W, waitMs: number): void {
    if (waitMs <= 0 || this.closed) {
      this.deps.check(wait).then(
        (met) => this.finish(wait, met),
        (error) => this.finish(wait, false, error),
      );
      return;
    }
    wait.slice = this.nextSlice;
    this.nextSlice = (this.nextSlice + 1) % RECHECK_SLICES;
    this.slices[wait.slice].add(wait);
    this.tick ??= setInterval(() => this.recheckSlice(), Math.max(1, Math.floor(this.turnMs / RECHECK_SLICES))).unref();
    const held = this.byTopic.get(wait.topic);
    if (held === undefined) this.byTopic.set(wait.topic, wait);
    else if (Array.isArray(held)) held.push(wait);
    else this.byTopic.set(wait.topic, [held, wait]);
    const now = performance.now();
    const slot = Math.ceil((now + waitMs) / EXPIRY_SLOT_MS);
    wait.expirySlot = slot;
    wait.holdMs = Math.floor(slot * EXPIRY_SLOT_MS - now);
    const due = this.expiring.get(slot);
    if (due) due.add(wait);
    else this.expiring.set(slot, new Set([wait]));
    if (slot < this.armedSlot) this.armExpiry(slot);
    this.check(wait);
  }

  private armExpiry(slot: number): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.armedSlot = slot;
    this.expiryTimer = setTimeout(this.expireDue, Math.max(0, Math.ceil(slot * EXPIRY_SLOT_MS - performance.now())));
  }

  /** Ends every wait whose slot has started, then sets the timer for the next slot held. */
  private readonly expireDue = (): void => {
    this.expiryTimer = null;
    const from = this.armedSlot;
    this.armedSlot = Number.POSITIVE_INFINITY;
    const now = Math.floor(performance.now() / EXPIRY_SLOT_MS);
    let slot = from;
    for (; slot <= now; slot++) {
      const due = this.expiring.get(slot);
      if (!due) continue;
      this.expiring.delete(slot);
      for (const wait of due) this.finish(wait, false);
    }
    // The next slot held: at a fleet's pace one of the next few; else (a few waits far apart)
    // the least of the slots held, so the search does not grow with how long a wait is held.
    let next = Number.POSITIVE_INFINITY;
    for (const end = slot + NEAR_SLOTS; slot < end; slot++) {
      if (this.expiring.has(slot)) {
        next = slot;
        break;
      }
    }
    if (next === Number.POSITIVE_INFINITY) for (const held of this.expiring.keys()) next = Math.min(next, held);
    if (next < this.armedSlot) this.armExpiry(next);
  };

  /** Ends the wait now (the client hung up), as not met, unless it ended already. */
  end(wait: W): void {
    this.finish(wait, false);
  }

  private wake(topic: string): void {
    const held = this.byTopic.get(topic);
    if (held === undefined) return;
    // A copy: a check that answers at once removes its wait from the list.
    if (Array.isArray(held)) for (const wait of [...held]) this.check(wait);
    else this.check(held);
  }

  private check(wait: W): void {
    if (wait.ended) return;
    if (wait.checking) {
      wait.again = true;
      return;
    }
    wait.checking = true;
    wait.again = false;
    this.deps.check(wait).then(
      (met) => {
        wait.checking = false;
        if (met) this.finish(wait, true);
        else if (wait.again) this.check(wait);
      },
      (error) => {
        wait.checking = false;
        this.finish(wait, false, error);
      },
    );
  }

  private finish(wait: W, met: boolean, error?: unknown): void {
    if (wait.ended) return;
    wait.ended = true;
    if (wait.expirySlot >= 0) {
      const due = this.expiring.get(wait.expirySlot);
      if (due?.delete(wait) && due.size === 0) this.expiring.delete(wait.expirySlot);
      wait.expirySlot = -1;
    }
    if (wait.slice >= 0 && this.slices[wait.slice].delete(wait)) this.forget(wait);
    this.deps.ended(wait, met, error);
  }

  private forget(wait: W): void {
    const held = this.byTopic.get(wait.topic);
    if (held === wait) this.byTopic.delete(wait.topic);
    else if (Array.isArray(held)) {
      const at = held.indexOf(wait);
      if (at >= 0) held.splice(at, 1);
      if (held.length === 1) this.byTopic.set(wait.topic, held[0]);
    }
    if (this.tick && this.slices.every((slice) => slice.size === 0)) {
      clearInterval(this.tick);
      this.tick = null;
      if (this.expiryTimer) clearTimeout(this.expiryTimer);
      this.expiryTimer = null;
      this.armedSlot = Number.POSITIVE_INFINITY;
    }
  }

  private recheckSlice(): void {
    const index = this.tickSlice;
    const due = this.slices[index];
    // Offset by the slice: each turn re-checks a share of the slices, not all of them one turn in so many.
    const recheck = (this.turns + index) % this.recheckEvery === 0;
    this.tickSlice = (index + 1) % RECHECK_SLICES;
    if (this.tickSlice === 0) this.turns++;
    for (const wait of due) {
      if (this.deps.gone?.(wait)) this.finish(wait, false);
      else if (recheck) this.check(wait);
    }
  }

  /** The source closed (server shutdown): every wait ends now, and later ones are checked once. */
  private close(): void {
    this.closed = true;
    for (const slice of this.slices) for (const wait of [...slice]) this.finish(wait, false);
  }
}
