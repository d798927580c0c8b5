import { EventEmitter } from "node:events";
import { HeldWait, HeldWaits } from "./held-waits.js";

export const deviceTopic = (deviceId: number) => `device:${deviceId}`;
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
export class NotifyHub {
  private readonly emitter = new EventEmitter();
  private transport: WakeTransport | null = null;
  /** The waits of waitUntil (held-waits.ts). */
  private readonly waits: HeldWaits<ValueWait<unknown>>;
  /** Listeners of every topic (null: any topic may have changed), for waits too many to subscribe one by one. */
  private readonly everyTopic = new Set<(topic: string | null) => void>();

  /** @param recheckMs how often a held wait is re-checked without a notification */
  constructor(recheckMs = 1000) {
    this.emitter.setMaxListeners(0);
    // Made before any close: a wait held after it is checked once, not held.
    this.waits = new HeldWaits<ValueWait<unknown>>({
      source: this,
      recheckMs,
      check: async (wait) => {
        wait.value = await wait.read();
        return wait.value !== undefined;
      },
      ended: (wait, met, error) => wait.settle(met ? wait.value : undefined, error),
    });
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
   * waits held all the time (held-waits.ts: the agents' polls, log followers), one listener instead of
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
    // Held waits end too (their set listens for it).
    this.emitter.emit("close");
    await this.transport?.close();
  }

  /**
   * Runs `check` until it answers a value, or answers undefined once `waitMs` passes, `signal`
   * aborts (the client hung up) or the hub closes. A held wait (held-waits.ts): checked at
   * once, on each notification of `topic` (again at once if one arrives while `check` runs),
   * and on the shared re-check tick.
   */
  waitUntil<T>(topic: string, waitMs: number, check: () => Promise<T | undefined>, signal?: AbortSignal): Promise<T | undefined> {
    const waits = this.waits;
    return new Promise<T | undefined>((resolve, reject) => {
      const wait: ValueWait<T> = new ValueWait(topic, check, (value, error) => {
        signal?.removeEventListener("abort", onAbort);
        if (error !== undefined) reject(error);
        else resolve(value);
      });
      const onAbort = () => waits.end(wait as ValueWait<unknown>);
      signal?.addEventListener("abort", onAbort);
      waits.hold(wait as ValueWait<unknown>, signal?.aborted ? 0 : waitMs);
    });
  }
}

/** A wait of waitUntil: what its check read last, and where its answer goes. */
class ValueWait<T> extends HeldWait {
  value: T | undefined = undefined;

  constructor(
    topic: string,
    readonly read: () => Promise<T | undefined>,
    readonly settle: (value: T | undefined, error?: unknown) => void,
  ) {
    super(topic);
  }
}
