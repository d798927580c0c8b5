/**
 * The one place the scheduler benchmark touches the matcher. The benchmark speaks its own
 * small types; re-point `createMatcher` here when the matcher's interface changes.
 */
import { type CandidateDevice, matchJob } from "@fedml/server";

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
  const byId = new Map(candidates.map((c) => [c.deviceId, c]));
  return {
    place(run) {
      const result = matchJob(
        {
          minimumNumGpus: run.gpus,
          resourceType: run.resourceType,
          deviceType: "GPU",
          maximumCostPerHour: run.maxCostPerHour,
          resourceId: null,
        },
        candidates,
      );
      if (result.kind !== "placed") return null;
      // Every node of a gang takes its GPUs and a job slot, so capacity shrinks as in the queue.
      for (const node of result.nodes) {
        const device = byId.get(node.deviceId);
        if (!device) continue;
        const taken = new Set(node.gpuIndices);
        device.freeGpuIndices = device.freeGpuIndices.filter((i) => !taken.has(i));
        device.freeSlots -= 1;
      }
      return { deviceId: result.deviceId, gpuIndices: result.gpuIndices };
    },
  };
}
