/** The matcher's filter steps, each a small pure function over candidates. */
import { gpuMatchesType } from "./gpu-names.js";
import { type CandidateDevice, type JobNeeds, type Offer, typeFilter } from "./job-needs.js";

/** Step: the pin. */
export function pinStep(needs: JobNeeds, devices: readonly CandidateDevice[]): CandidateDevice[] {
  return needs.resourceId ? devices.filter((d) => d.deviceId === needs.resourceId) : [...devices];
}

/** Step: one's own devices and shared ones (when the caller says who owns what). */
export function mayUseStep(needs: JobNeeds, devices: readonly CandidateDevice[]): CandidateDevice[] {
  if (!needs.requesterId) return [...devices];
  return devices.filter((d) => d.ownerId === undefined || d.ownerId === needs.requesterId || d.shared !== false);
}

/** Step: the GPUs of the wanted model on each device, and the requester's price. */
export function offerStep(needs: JobNeeds, devices: readonly CandidateDevice[]): Offer[] {
  const type = typeFilter(needs);
  return devices.map((device) => {
    const matching = new Set(device.gpus.filter((g) => !type || gpuMatchesType(g.name, type)).map((g) => g.index));
    const own = !!needs.requesterId && device.ownerId === needs.requesterId;
    return {
      device,
      matchingAll: [...matching].sort((a, b) => a - b),
      matchingFree: device.freeGpuIndices.filter((i) => matching.has(i)).sort((a, b) => a - b),
      pricePerGpuHour: own ? 0 : device.pricePerGpuHour,
    };
  });
}
