import { gpuMatchesType } from "./gpu-names.js";

/** What a job asks for, from its spec's `computing` section and the launch's resource pin. */
export interface JobNeeds {
  minimumNumGpus: number;
  resourceType: string | null;
  deviceType: string;
  /** USD per hour for the whole job; a device costing 0 always passes. */
  maximumCostPerHour: number;
  /** Pin to one device id. */
  resourceId: string | null;
}

/** A device the job may use, with what is free on it right now. */
export interface CandidateDevice {
  deviceId: string;
  name: string;
  gpus: { index: number; name: string }[];
  freeGpuIndices: number[];
  maxJobs: number;
  freeSlots: number;
  pricePerGpuHour: number;
}

export type MatchResult =
  | { kind: "placed"; deviceId: string; gpuIndices: number[]; pricePerHour: number }
  | { kind: "queued"; reason: string }
  | { kind: "no_resources"; reason: string }
  | { kind: "blocked"; reason: string };

const usd = (v: number) => `$${v.toFixed(2)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const listNames = (devices: CandidateDevice[]) =>
  devices
    .slice(0, 3)
    .map((d) => d.name)
    .join(", ") + (devices.length > 3 ? ` and ${devices.length - 3} more` : "");

interface Assessed {
  device: CandidateDevice;
  matchingFree: number[];
  matchingTotal: number;
  pricePerHour: number;
}

/**
 * Pure placement decision for one single-device run. Placed: the cheapest fitting device
 * under the price cap, then the one with most free job slots. Otherwise says why, in words:
 * `queued` (fits once running work ends), `blocked` (fits but above the cap), `no_resources`
 * (nothing could ever fit).
 */
export function matchJob(needs: JobNeeds, candidates: readonly CandidateDevice[]): MatchResult {
  const gpusNeeded = needs.deviceType.toUpperCase() === "CPU" ? 0 : Math.max(0, Math.trunc(needs.minimumNumGpus));
  const typeFilter = gpusNeeded > 0 && needs.resourceType ? needs.resourceType : null;
  const what = gpusNeeded > 0 ? `${plural(gpusNeeded, "GPU")}${typeFilter ? ` of type ${typeFilter}` : ""}` : "a job slot";

  const pool = needs.resourceId ? candidates.filter((d) => d.deviceId === needs.resourceId) : [...candidates];
  if (pool.length === 0) {
    return {
      kind: "no_resources",
      reason: needs.resourceId
        ? `device ${needs.resourceId} is not an online device of yours or a shared one`
        : "no device is online for you: bind a machine with fedml login",
    };
  }

  const assessed: Assessed[] = pool.map((device) => {
    const matching = new Set(device.gpus.filter((g) => !typeFilter || gpuMatchesType(g.name, typeFilter)).map((g) => g.index));
    return {
      device,
      matchingTotal: matching.size,
      matchingFree: device.freeGpuIndices.filter((i) => matching.has(i)).sort((a, b) => a - b),
      pricePerHour: device.pricePerGpuHour * gpusNeeded,
    };
  });

  const fitsEver = assessed.filter((a) => a.device.maxJobs >= 1 && a.matchingTotal >= gpusNeeded);
  if (fitsEver.length === 0) {
    const most = assessed.reduce((best, a) => (a.matchingTotal > best.matchingTotal ? a : best));
    return {
      kind: "no_resources",
      reason: `no device can ever fit ${what}: the most any of ${plural(pool.length, "device")} has is ${most.matchingTotal} (${most.device.name})`,
    };
  }

  const underCap = fitsEver.filter((a) => a.pricePerHour === 0 || a.pricePerHour <= needs.maximumCostPerHour);
  if (underCap.length === 0) {
    const cheapest = fitsEver.reduce((best, a) => (a.pricePerHour < best.pricePerHour ? a : best));
    const cap =
      needs.maximumCostPerHour === 0
        ? "the job allows no paid resources (maximum_cost_per_hour $0)"
        : `the job's cap is ${usd(needs.maximumCostPerHour)}/hour`;
    return {
      kind: "blocked",
      reason: `${cap} and every device that fits costs more (cheapest: ${usd(cheapest.pricePerHour)}/hour on ${cheapest.device.name})`,
    };
  }

  const fitsNow = underCap
    .filter((a) => a.device.freeSlots >= 1 && a.matchingFree.length >= gpusNeeded)
    .sort(
      (a, b) =>
        a.pricePerHour - b.pricePerHour ||
        b.device.freeSlots - a.device.freeSlots ||
        Number(a.device.deviceId) - Number(b.device.deviceId),
    );
  const best = fitsNow[0];
  if (!best) {
    return { kind: "queued", reason: `waiting for ${what} to free up on ${listNames(underCap.map((a) => a.device))}` };
  }
  return {
    kind: "placed",
    deviceId: best.device.deviceId,
    gpuIndices: best.matchingFree.slice(0, gpusNeeded),
    pricePerHour: best.pricePerHour,
  };
}
