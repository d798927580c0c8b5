import type { CandidateDevice } from "../../src/scheduler/matcher.js";

/** What a generated device is made of (the property tests draw these with fast-check). */
export interface DeviceSpec {
  gpuCount: number;
  /** Index into the test's model names, per GPU slot. */
  models: number[];
  /** Per GPU slot: held by another run. */
  busy: boolean[];
  cents: number;
  maxJobs: number;
  usedSlots: number;
  provider?: string;
  owner?: string;
  shared?: boolean;
}

/** The matcher's view of generated devices: ids 1..N, free GPUs and slots from the spec. */
export function toFleet(specs: readonly DeviceSpec[], models: readonly string[]): CandidateDevice[] {
  return specs.map((d, i) => {
    const gpus = Array.from({ length: d.gpuCount }, (_, index) => ({ index, name: models[d.models[index]] }));
    return {
      deviceId: String(i + 1),
      name: `dev-${i + 1}`,
      gpus,
      freeGpuIndices: gpus.filter((g) => !d.busy[g.index]).map((g) => g.index),
      maxJobs: d.maxJobs,
      freeSlots: Math.max(0, d.maxJobs - d.usedSlots),
      pricePerGpuHour: d.cents * 10_000,
      ...(d.provider !== undefined ? { provider: d.provider } : {}),
      ...(d.owner !== undefined ? { ownerId: d.owner } : {}),
      ...(d.shared !== undefined ? { shared: d.shared } : {}),
    };
  });
}
