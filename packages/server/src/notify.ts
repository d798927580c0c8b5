import { EventEmitter } from "node:events";

export const deviceTopic = (deviceId: number) => `device:${deviceId}`;
export const runTopic = (runId: number) => `run:${runId}`;

/**
 * Wakes long-polls inside this process. Waiters also re-check on a timer, so replicas
 * sharing one PostgreSQL still see each other's changes (only later).
 */
export class NotifyHub {
  private readonly emitter = new EventEmitter();
  private closed = false;

  constructor(private readonly recheckMs = 1000) {
    this.emitter.setMaxListeners(0);
  }

  notify(topic: string): void {
    this.emitter.emit(topic);
  }

  close(): void {
    this.closed = true;
    this.emitter.emit("close");
  }

  /**
   * Runs `check` until it answers a value or `waitMs` passes (then answers undefined after
   * one last check). `signal` ends the wait early, e.g. when the client hangs up.
   */
  async waitUntil<T>(
    topic: string,
    waitMs: number,
    check: () => Promise<T | undefined>,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    const deadline = Date.now() + Math.max(0, waitMs);
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed || signal?.aborted) return undefined;
      await this.nextWake(topic, Math.min(left, this.recheckMs), signal);
    }
  }

  private nextWake(topic: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(topic, done);
        this.emitter.off("close", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.on(topic, done);
      this.emitter.on("close", done);
      signal?.addEventListener("abort", done);
    });
  }
}
