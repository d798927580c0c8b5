/** The matcher's filter steps, each a small pure function over candidates. */
import { gpuMatchesType } from "./gpu-names.js";
import { type CandidateDevice, type JobNeeds, type Offer, typeFilter } from "./job-needs.js";

/** Step: the pin. */
export function pinStep(needs: JobNeeds, devices: readonly CandidateDevice[]): CandidateDevice[] {
  return needs.resourceId ? devices.filter((d) => d.deviceId === needs.resourceId) : [...devices];
}

/** Step: one's own devices and shared ones (when the caller says who owns what). */
export function mayUseStep(needs: Pick<JobNeeds, "requesterId">, devices: readonly CandidateDevice[]): CandidateDevice[] {
  if (!needs.requesterId) return [...devices];
  return devices.filter((d) => d.ownerId === undefined || d.ownerId === needs.requesterId || d.shared !== false);
}

/** Step: a container job only on devices that can run containers (never on a bare host instead). */
export function containerStep(needs: Pick<JobNeeds, "container">, devices: readonly CandidateDevice[]): CandidateDevice[] {
  return needs.container ? devices.filter((d) => Boolean(d.containerRuntime)) : [...devices];
}

/** Whether a GPU called `gpuName` serves a job wanting `type` (null or "": any model). */
export function gpuIsOfType(gpuName: string, type: string | null): boolean {
  return !type || gpuMatchesType(gpuName, type);
}

/** The GPUs of `device` a job wanting `type` (null: any model) may use. */
export function matchingGpus(device: CandidateDevice, type: string | null): Set<number> {
  return new Set(device.gpus.filter((g) => gpuIsOfType(g.name, type)).map((g) => g.index));
}

/** What the requester pays per GPU-hour on `device`: nothing on their own. */
export function priceFor(requesterId: string | null | undefined, device: CandidateDevice): number {
  const own = !!requesterId && device.ownerId === requesterId;
  return own ? 0 : device.pricePerGpuHour;
}

/** Step: the GPUs of the wanted model on each device, and the requester's price. */
export function offerStep(needs: JobNeeds, devices: readonly CandidateDevice[]): Offer[] {
  const type = typeFilter(needs);
  return devices.map((device) => {
    const matching = matchingGpus(device, type);
    return {
      device,
      matchingAll: [...matching].sort((a, b) => a - b),
      matchingFree: device.freeGpuIndices.filter((i) => matching.has(i)).sort((a, b) => a - b),
      pricePerGpuHour: priceFor(needs.requesterId, device),
    };
  });
}
