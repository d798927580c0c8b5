/** Section 3: the matcher alone over simulated devices and a deep queue. */
import { type BenchDevice, type BenchRun, createMatcher } from "./matcher-adapter.js";
import { type Quantiles, nowMs, quantiles } from "./lib/stats.js";

export interface SchedulerResult {
  devices: number;
  queuedRuns: number;
  /** Decisions taken before the time budget ran out (all of the queue when it did not). */
  decisions: number;
  placed: number;
  decisionsPerSec: number;
  placementsPerSec: number;
  decisionMs: Quantiles;
  /** The decisions that placed a run (once the fleet is full, most decisions only queue). */
  placementMs: Quantiles;
  /** The slowest decision: the first of each kind builds the index's heaps. */
  maxDecisionMs: number;
  budgetSec: number;
}

const GPU_MODELS = [
  { name: "NVIDIA A100-SXM4-80GB", type: "A100-80G", price: 1.6 },
  { name: "NVIDIA H100 80GB HBM3", type: "H100", price: 2.5 },
  { name: "NVIDIA GeForce RTX 4090", type: "RTX-4090", price: 0.4 },
  { name: "NVIDIA L40S", type: "L40S", price: 0.9 },
];

/** A deterministic pseudo-random sequence, so every run of the benchmark sees the same fleet. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function simulatedFleet(count: number, seed = 1): BenchDevice[] {
  const rand = lcg(seed);
  return Array.from({ length: count }, (_, i) => {
    const model = GPU_MODELS[Math.floor(rand() * GPU_MODELS.length)];
    const gpuCount = [1, 2, 4, 8, 8][Math.floor(rand() * 5)];
    return {
      id: i + 1,
      gpuNames: Array.from({ length: gpuCount }, () => model.name),
      maxJobs: gpuCount,
      pricePerGpuHour: Math.round(model.price * (0.8 + rand() * 0.4) * 100) / 100,
    };
  });
}

export function simulatedQueue(count: number, seed = 2): BenchRun[] {
  const rand = lcg(seed);
  return Array.from({ length: count }, () => {
    const gpus = [1, 1, 1, 2, 4, 8][Math.floor(rand() * 6)];
    const typed = rand() < 0.5;
    return {
      gpus,
      resourceType: typed ? GPU_MODELS[Math.floor(rand() * GPU_MODELS.length)].type : null,
      maxCostPerHour: 4 * gpus,
    };
  });
}

/** Every queued run in order, one decision each, until the queue or the time budget ends. */
export function scheduler(deviceCount: number, runCount: number, budgetSec: number): SchedulerResult {
  const matcher = createMatcher(simulatedFleet(deviceCount));
  const queue = simulatedQueue(runCount);
  const times: number[] = [];
  const placedTimes: number[] = [];
  let placed = 0;
  const started = nowMs();
  const deadline = started + budgetSec * 1000;
  for (const run of queue) {
    const t0 = nowMs();
    const ok = matcher.place(run) !== null;
    const t1 = nowMs();
    times.push(t1 - t0);
    if (ok) {
      placed++;
      placedTimes.push(t1 - t0);
    }
    if (t1 > deadline) break;
  }
  const elapsed = (nowMs() - started) / 1000;
  return {
    devices: deviceCount,
    queuedRuns: runCount,
    decisions: times.length,
    placed,
    decisionsPerSec: times.length / elapsed,
    placementsPerSec: placed / elapsed,
    decisionMs: quantiles(times),
    placementMs: quantiles(placedTimes),
    maxDecisionMs: times.reduce((a, b) => Math.max(a, b), 0),
    budgetSec,
  };
}
