/** What the matcher reads: a job's needs, candidate devices, and words for both. Pure. */
import { isContainerJob, type JobSpec, fromMicros, toMicros } from "@fedml/core";

/** What a job asks for, from its spec's `computing` section and the launch's resource pin. */
export interface JobNeeds {
  minimumNumGpus: number;
  resourceType: string | null;
  deviceType: string;
  /** USD per hour for the whole job; an allocation costing 0 always passes. */
  /** USD per hour, as the job's YAML writes it (capMicros compares it). */
  maximumCostPerHour: number;
  /** Pin to one device id. */
  resourceId: string | null;
  /** Who launches: devices of others are usable only when shared, and one's own cost 0. */
  requesterId?: string | null;
  /** `allow_cross_cloud_resources`: a multi-device job may mix providers. Default false. */
  allowCrossProvider?: boolean;
  /** The requester's credit; omitted: not checked. */
  credit?: CreditStanding | null;
  /** A container job (`docker:` image): only devices with docker or podman may take it. */
  container?: boolean;
}

export interface CreditStanding {
  /** Modelled as "has been granted credit at least once" (see docs/marketplace.md). */
  cardBound: boolean;
  /** Whole micro-dollars. */
  balanceMicros: number;
  /** Micro-dollars per hour the user already pays (running parts, held devices); absent: 0. */
  committedMicrosPerHour?: number;
}

/** A device the job may use, with what is free on it right now. */
export interface CandidateDevice {
  deviceId: string;
  name: string;
  gpus: { index: number; name: string; memoryMiB?: number }[];
  freeGpuIndices: number[];
  maxJobs: number;
  freeSlots: number;
  /** Whole micro-dollars per GPU-hour, set by the device's owner; the owner's own runs pay nothing. */
  pricePerGpuHour: number;
  provider?: string;
  region?: string;
  ownerId?: string;
  shared?: boolean;
  simulated?: boolean;
  /** "docker" or "podman"; absent: the device cannot run container jobs. */
  containerRuntime?: string;
}

/** A candidate after the filters: the GPUs of the wanted type and the requester's price. */
export interface Offer {
  device: CandidateDevice;
  matchingAll: number[];
  matchingFree: number[];
  /** The requester's price, whole micro-dollars per GPU-hour. */
  pricePerGpuHour: number;
}

/** Micro-dollars in words. */
export const usd = (micros: number) => `$${fromMicros(micros).toFixed(2)}`;

/** The job's cap (USD per hour, as written in its YAML) in whole micro-dollars per hour. */
export const capMicros = (needs: Pick<JobNeeds, "maximumCostPerHour">) => toMicros(needs.maximumCostPerHour);
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** GPUs the job takes: none for CPU jobs. */
export function gpusWanted(needs: JobNeeds): number {
  return isCpuType(needs.deviceType) ? 0 : Math.max(0, Math.trunc(needs.minimumNumGpus));
}

/** "CPU" in any case, without a new string per call: a queue pass asks this many times a run. */
const isCpuType = (deviceType: string) => deviceType.length === 3 && (deviceType === "CPU" || deviceType.toUpperCase() === "CPU");

export function typeFilter(needs: JobNeeds): string | null {
  return gpusWanted(needs) > 0 && needs.resourceType ? needs.resourceType : null;
}

/** Words for what the job wants: "4 x A100" or "a job slot". */
export function describeWant(needs: JobNeeds): string {
  const n = gpusWanted(needs);
  const type = typeFilter(needs);
  return n > 0 ? `${n} x ${type ?? "GPU"}` : "a job slot";
}

/** What a job spec asks of the matcher. Pure. */
export function jobNeeds(spec: JobSpec, resourceId: string | null, requesterId?: number): JobNeeds {
  return {
    minimumNumGpus: spec.computing.minimumNumGpus,
    resourceType: spec.computing.resourceType,
    deviceType: spec.computing.deviceType,
    maximumCostPerHour: spec.computing.maximumCostPerHour,
    resourceId: resourceId || null,
    requesterId: requesterId === undefined ? null : String(requesterId),
    allowCrossProvider: spec.computing.allowCrossCloudResources,
    ...(isContainerJob(spec) ? { container: true } : {}),
  };
}
