/**
 * How much garbage the server's heap may hold. After each full collection V8 lets the old
 * generation grow by a factor it picks itself, up to four times what survived for a heap that
 * collects fast. Every agent holds a long-poll most of the time, and each poll's objects live
 * through its hold, so they are promoted and die in the old generation: with 10,000 agents
 * that garbage, not the live fleet, set the server's memory (heap in use climbing from 170 to
 * 390 MB between two full collections). A fixed growth bounds the garbage to a share of what
 * is live, so memory grows with the fleet and no faster, at the price of more frequent full
 * collections (each one incremental and mostly concurrent).
 */
import { setFlagsFromString } from "node:v8";

/** The old generation may grow by half of what survived the last full collection. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 50;

/** Sets the growth for this process; 0 leaves V8's own policy. */
export function boundHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
