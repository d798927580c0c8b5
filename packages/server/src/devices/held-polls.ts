/**
 * Held assignments polls: an agent's poll waits until its device's version passes the one the
 * agent has, each poll one record on a set of held waits (held-waits.ts: checked at start, on
 * its device's topic, on the shared tick; ended at its deadline, on a hang-up (found on the
 * shared tick) or at shutdown).
 * Every agent holds its poll most of the time, so a poll keeps only what its answer needs.
 */
import { HeldWait, HeldWaits } from "../held-waits.js";
import { type NotifyHub, deviceTopic } from "../notify.js";

/**
 * How often a held poll reads its device's version again without a notification. A change's
 * notification wakes its poll at once (across replicas too, and every poll is checked again
 * when notifications may have been missed: notify-postgres.ts), so this re-read only bounds the
 * delay of a notification lost all the same; at 10,000 agents a re-read every second was 10,000
 * reads a second, a tenth of the server's CPU per poll. Hang-ups are still found every second.
 */
export const POLL_RECHECK_MS = 5_000;

export class HeldPoll<T> extends HeldWait {
  constructor(
    readonly deviceId: number,
    readonly since: number,
    /** When the caller heard the device (its own clock; handed back with the answer). */
    readonly heardAt: number,
    /** What the answer goes to. */
    readonly context: T,
  ) {
    super(deviceTopic(deviceId));
  }
}

export interface HeldPollsDeps<T> {
  hub: NotifyHub;
  /** Whether the device's version is past `since` now. */
  changed: (deviceId: number, since: number) => Promise<boolean>;
  /** Called once per poll: `changed` true when the device's version passed the poll's, false when the wait ended without (or with the error of a check). */
  answer: (poll: HeldPoll<T>, context: T, changed: boolean, error?: unknown) => void;
  /** Whether the poll's client hung up (asked on the shared re-check tick): true ends the wait. */
  gone?: (context: T) => boolean;
  /** Default POLL_RECHECK_MS. */
  recheckMs?: number;
  /** How often `gone` is asked (default held-waits.ts's DEFAULT_PERIOD_MS). */
  goneCheckMs?: number;
}

export class HeldPolls<T> {
  private readonly waits: HeldWaits<HeldPoll<T>>;

  constructor(deps: HeldPollsDeps<T>) {
    const gone = deps.gone;
    this.waits = new HeldWaits<HeldPoll<T>>({
      source: deps.hub,
      recheckMs: deps.recheckMs ?? POLL_RECHECK_MS,
      goneCheckMs: deps.goneCheckMs,
      check: (poll) => deps.changed(poll.deviceId, poll.since),
      ended: (poll, changed, error) => deps.answer(poll, poll.context, changed, error),
      gone: gone && ((poll) => gone(poll.context)),
    });
  }

  /** How many polls are held now. */
  get size(): number {
    return this.waits.size;
  }

  /**
   * Waits until `deviceId`'s version passes `since` or `waitMs` passes; then `answer` is
   * called once with `context`. The returned record is what end() takes.
   */
  hold(deviceId: number, since: number, waitMs: number, heardAt: number, context: T): HeldPoll<T> {
    const poll = new HeldPoll(deviceId, since, heardAt, context);
    this.waits.hold(poll, waitMs);
    return poll;
  }

  /** Ends the wait now: answered as unchanged, unless answered already. */
  end(poll: HeldPoll<T>): void {
    this.waits.end(poll);
  }
}
