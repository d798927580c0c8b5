import type { Clock } from "../../src/clock.js";

/**
 * The real clocks, shifted by hand: `stall(ms)` moves both on (the server slept through that
 * time), `stepWall(ms)` only the wall clock (an NTP or operator step).
 */
export function shiftedClock(): { clock: Clock; stall(ms: number): void; stepWall(ms: number): void } {
  const offset = { wall: 0, mono: 0 };
  return {
    clock: { wall: () => Date.now() + offset.wall, mono: () => performance.now() + offset.mono },
    stall(ms) {
      offset.wall += ms;
      offset.mono += ms;
    },
    stepWall(ms) {
      offset.wall += ms;
    },
  };
}

/** Polls `check` every 25 ms until it answers a value, or fails after timeoutMs. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
