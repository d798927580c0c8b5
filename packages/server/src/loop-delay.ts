/**
 * The event loop's delay, from node's monitorEventLoopDelay. Its histogram holds the time
 * between the firings of a timer that repeats every `resolution` ms, the resolution itself
 * included: an idle loop sampled every 20 ms reads a mean of 20 ms. Only the part beyond the
 * resolution is the delay.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

export class LoopDelay {
  private readonly histogram: IntervalHistogram;

  constructor(private readonly resolutionMs: number) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  private beyond(ns: number): number {
    return Number.isFinite(ns) ? Math.max(0, ns / 1e6 - this.resolutionMs) : 0;
  }

  /** Mean delay (ms) since the start or the last reset. */
  get meanMs(): number {
    return this.beyond(this.histogram.mean);
  }

  /** The p-th percentile (0-100) of the delay, in ms. */
  percentileMs(p: number): number {
    return this.beyond(this.histogram.percentile(p));
  }

  /** Firings of the sampling timer since the start or the last reset. */
  get samples(): number {
    return this.histogram.count;
  }

  reset(): void {
    this.histogram.reset();
  }

  stop(): void {
    this.histogram.disable();
  }
}
