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
