import type { GpuInfo } from "@fedml/core";
import type { CandidateDevice } from "./matcher.js";
import { decodeGpuIndices, decodeGpus } from "../store/json-columns.js";
import { memoDecode } from "./decode-memo.js";

/** The device columns capacity needs (a store row fits). */
export interface DeviceCapacityRow {
  id: number;
  name: string;
  gpus_json: string;
  max_jobs: number;
  price_per_gpu_hour_micros: number;
  /** Marketplace columns; absent ones leave the matcher's ownership and provider steps open. */
  owner_id?: number;
  shared?: number;
  provider?: string;
  region?: string;
  simulated?: number;
  container_runtime?: string | null;
}

/** The run-part columns capacity needs: every live (not ended) run part on the devices. */
export interface LiveRunPartRow {
  device_id: number;
  gpu_indices_json: string;
}

export function parseGpus(json: string): GpuInfo[] {
  return decodeGpus(json);
}

export function parseIndices(json: string): number[] {
  return decodeGpuIndices(json);
}

// Every queue pass reads the whole fleet's GPU lists and the live parts' GPU indices anew.
const gpusOf = memoDecode(decodeGpus, 50_000);
const indicesOf = memoDecode(decodeGpuIndices, 10_000);

/**
 * How many GPUs a part holds. Billing counts them for every live part on every tick and
 * every queue pass; a fleet's parts hold few distinct index lists, each decoded once.
 */
export function gpuCountOf(json: string): number {
  return indicesOf(json).length;
}

/** Free GPUs and job slots per device: what live run parts do not hold. Pure. */
export function toCandidates(devices: readonly DeviceCapacityRow[], liveParts: readonly LiveRunPartRow[]): CandidateDevice[] {
  // Grouped once: filtering every part for every device was quadratic in a busy fleet.
  const partsOf = new Map<number, LiveRunPartRow[]>();
  for (const part of liveParts) {
    const list = partsOf.get(part.device_id);
    if (list) list.push(part);
    else partsOf.set(part.device_id, [part]);
  }
  return devices.map((d) => {
    const parts = partsOf.get(d.id) ?? [];
    const held = new Set(parts.flatMap((p) => indicesOf(p.gpu_indices_json)));
    const listed = gpusOf(d.gpus_json);
    // A batch system's GPUs that its other users' jobs hold: the device has them, just not free now.
    for (const g of listed) if (g.busyElsewhere) held.add(g.index);
    const gpus = listed.map((g) => ({ index: g.index, name: g.name, memoryMiB: g.memoryMiB }));
    return {
      deviceId: String(d.id),
      name: d.name,
      gpus,
      freeGpuIndices: gpus.map((g) => g.index).filter((i) => !held.has(i)),
      maxJobs: d.max_jobs,
      freeSlots: Math.max(0, d.max_jobs - parts.length),
      pricePerGpuHour: d.price_per_gpu_hour_micros,
      ...(d.owner_id !== undefined ? { ownerId: String(d.owner_id) } : {}),
      ...(d.shared !== undefined ? { shared: d.shared === 1 } : {}),
      ...(d.provider !== undefined ? { provider: d.provider } : {}),
      ...(d.region !== undefined ? { region: d.region } : {}),
      ...(d.simulated !== undefined ? { simulated: d.simulated === 1 } : {}),
      ...(d.container_runtime ? { containerRuntime: d.container_runtime } : {}),
    };
  });
}
