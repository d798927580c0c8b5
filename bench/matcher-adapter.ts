/**
 * The one place the scheduler benchmark touches the matcher. The benchmark speaks its own
 * small types; re-point `createMatcher` here when the matcher's interface changes.
 */
import { CandidateIndex, type CandidateDevice, matchIndexed } from "@fedml/server";

export interface BenchDevice {
  id: number;
  gpuNames: string[];
  maxJobs: number;
  pricePerGpuHour: number;
}

export interface BenchRun {
  gpus: number;
  resourceType: string | null;
  maxCostPerHour: number;
}

export interface MatcherUnderTest {
  /** One decision; a placement is applied to the matcher's own view of free capacity. */
  place(run: BenchRun): { deviceId: string; gpuIndices: number[] } | null;
}

/**
 * What the server's queue pass does (placement.ts): one candidate index over the snapshot,
 * one indexed decision per run, each placement taking its GPUs from the index.
 */
export function createMatcher(devices: readonly BenchDevice[]): MatcherUnderTest {
  const candidates: CandidateDevice[] = devices.map((d) => ({
    deviceId: String(d.id),
    name: `sim-${d.id}`,
    gpus: d.gpuNames.map((name, index) => ({ index, name })),
    freeGpuIndices: d.gpuNames.map((_, index) => index),
    maxJobs: d.maxJobs,
    freeSlots: d.maxJobs,
    pricePerGpuHour: d.pricePerGpuHour,
  }));
  const index = new CandidateIndex(candidates);
  return {
    place(run) {
      const result = matchIndexed(
        {
          minimumNumGpus: run.gpus,
          resourceType: run.resourceType,
          deviceType: "GPU",
          maximumCostPerHour: run.maxCostPerHour,
          resourceId: null,
        },
        index,
      );
      if (result.kind !== "placed") return null;
      // Every node of a gang takes its GPUs and a job slot, so capacity shrinks as in the queue.
      index.take(result.nodes);
      return { deviceId: result.deviceId, gpuIndices: result.gpuIndices };
    },
  };
}
