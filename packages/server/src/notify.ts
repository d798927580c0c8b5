import { EventEmitter } from "node:events";

const DEVICE_TOPIC = "device:";
export const deviceTopic = (deviceId: number) => `${DEVICE_TOPIC}${deviceId}`;
/** The device a topic is about (undefined: not a device's topic). */
export const deviceOfTopic = (topic: string): number | undefined =>
  topic.startsWith(DEVICE_TOPIC) ? Number(topic.slice(DEVICE_TOPIC.length)) : undefined;
export const runTopic = (runId: number) => `run:${runId}`;
/** An endpoint's replicas changed (ready, unhealthy, retired, ended): the inference proxy re-reads them. */
export const endpointTopic = (endpointId: number) => `endpoint:${endpointId}`;
/** API keys were revoked or replaced, or a user disabled: every process forgets the keys it remembered (auth/key-cache.ts). */
export const apiKeysTopic = "api-keys";
/** A device was unbound or bound again (its token changed), or marked OFFLINE: every process forgets the device tokens it remembered (auth/device-tokens.ts). */
export const deviceTokensTopic = "device-tokens";
/**
 * Wakes this process's queue loop. Never sent to the other replicas: each replica's pass sees
 * the whole queue under the placement lock, so the replica that made the change places it,
 * and waking the others too only repeated passes under the lock (200 launches through three
 * replicas took 14.3 s with it sent everywhere, 10.4 s without).
 */
export const schedulerTopic = "scheduler";

/** Carries this process's notifications to the other server processes on the same database. */
export interface WakeTransport {
  publish(topic: string): void;
  close(): Promise<void>;
}

/**
 * Wakes long-polls and log followers. In-process by itself (SQLite: one
 * process); with a transport (PostgreSQL LISTEN/NOTIFY) also across the replicas sharing the
 * database. Waiters re-check on a timer all the same, so a lost notification only delays.
 * Call notify() after the change it announces has committed.
 */
/** How many parts the waiters' re-checks are spread over within each recheck period. */
const RECHECK_SLICES = 10;

export class NotifyHub {
  private readonly emitter = new EventEmitter();
  private closed = false;
  private transport: WakeTransport | null = null;
  /**
   * Waiters re-checked on the shared tick, in slices: each tick (every recheckMs / SLICES)
   * re-checks one slice, so every waiter is re-checked once per recheckMs but never all at
   * once (10,000 held polls re-checked in one turn held every answer due meanwhile behind them).
   */
  private readonly slices: Set<() => void>[] = Array.from({ length: RECHECK_SLICES }, () => new Set());
  /** The slice the next waiter joins (round robin), and the one the next tick re-checks. */
  private nextSlice = 0;
  private tickSlice = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  /** Listeners of every topic (null: any topic may have changed), for waits too many to subscribe one by one. */
  private readonly everyTopic = new Set<(topic: string | null) => void>();

  constructor(private readonly recheckMs = 1000) {
    this.emitter.setMaxListeners(0);
  }

  /** From now on notifications also go to the other processes through `transport`. */
  connect(transport: WakeTransport): void {
    this.transport = transport;
  }

  notify(topic: string): void {
    this.deliver(topic);
    if (topic !== schedulerTopic) this.transport?.publish(topic);
  }

  /** Wakes this process's waiters on `topic` (a notification from another process). */
  deliver(topic: string): void {
    this.emitter.emit(topic);
    for (const listener of this.everyTopic) listener(topic);
  }

  /**
   * Calls `listener` with every topic notified in this process, and with null when
   * notifications may have been missed (deliverAll); answers the unsubscribe. For a family of
   * waits held all the time (the agents' polls: devices/held-polls.ts), one listener instead of
   * a subscription made and dropped per wait.
   */
  subscribeAll(listener: (topic: string | null) => void): () => void {
    this.everyTopic.add(listener);
    return () => this.everyTopic.delete(listener);
  }

  /** Calls `listener` on each notification of `topic` in this process; answers the unsubscribe. */
  subscribe(topic: string, listener: () => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }

  /** Wakes every waiter of this process: notifications may have been missed (a lost connection). */
  deliverAll(): void {
    for (const name of this.emitter.eventNames()) {
      if (name !== "close") this.emitter.emit(name);
    }
    for (const listener of this.everyTopic) listener(null);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emitter.emit("close");
    // Held waits end too (each is on the tick's list; one "close" listener per wait would make
    // every wait's removal a search through thousands of them).
    for (const slice of this.slices) for (const waiter of [...slice]) waiter();
    await this.transport?.close();
  }

  /**
   * Runs `check` until it answers a value or `waitMs` passes (then answers undefined after
   * one last check). `signal` ends the wait early, e.g. when the client hangs up. A
   * notification that arrives while `check` runs makes it run again at once. Between
   * notifications every waiter re-checks on one shared tick (once every recheckMs), not on a
   * timer of its own: with thousands of held polls the re-checks of one slice of them fall in
   * the same turn of the event loop and can be read together (devices/device-versions.ts).
   */
  async waitUntil<T>(
    topic: string,
    waitMs: number,
    check: () => Promise<T | undefined>,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    const deadline = Date.now() + Math.max(0, waitMs);
    let woken = false;
    let wake: (() => void) | undefined;
    const onWake = () => {
      woken = true;
      wake?.();
    };
    this.emitter.on(topic, onWake);
    signal?.addEventListener("abort", onWake);
    const slice = this.slices[this.nextSlice];
    this.nextSlice = (this.nextSlice + 1) % RECHECK_SLICES;
    slice.add(onWake);
    this.tickTimer ??= setInterval(
      () => {
        const due = this.slices[this.tickSlice];
        this.tickSlice = (this.tickSlice + 1) % RECHECK_SLICES;
        for (const waiter of due) waiter();
      },
      Math.max(1, Math.floor(this.recheckMs / RECHECK_SLICES)),
    ).unref();
    // Timers may fire a little before Date.now() reaches the deadline: the timer itself ends the wait.
    let expired = waitMs <= 0;
    const end = setTimeout(
      () => {
        expired = true;
        onWake();
      },
      Math.max(0, waitMs),
    );
    try {
      for (;;) {
        woken = false;
        const value = await check();
        if (value !== undefined) return value;
        if (expired || deadline - Date.now() <= 0 || this.closed || signal?.aborted) return undefined;
        if (woken) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      clearTimeout(end);
      slice.delete(onWake);
      if (this.tickTimer && this.slices.every((waiters) => waiters.size === 0)) {
        clearInterval(this.tickTimer);
        this.tickTimer = null;
      }
      this.emitter.off(topic, onWake);
      signal?.removeEventListener("abort", onWake);
    }
  }
}
