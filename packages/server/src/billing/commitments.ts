/**
 * What a user has committed to pay: the parts that bill now and the devices their clusters
 * hold. Pure. A part of a cluster's run on a device the cluster holds is covered by the hold
 * (which bills the whole device), so it never counts twice.
 */
import { gpuCountOf } from "../scheduler/capacity.js";
import { partCost } from "./part-cost.js";
import type { ReservationRow } from "../store/reservations.js";
import type { BilledPartRow } from "../store/runs.js";

const HOUR_MS = 3_600_000;

function coveredByHold(part: BilledPartRow, holds: readonly ReservationRow[]): boolean {
  return part.cluster_id !== null && holds.some((h) => h.cluster_id === part.cluster_id && h.device_id === part.device_id);
}

/** Micro-dollars per hour of everything billing now. */
export function hourlyCommitment(parts: readonly BilledPartRow[], holds: readonly ReservationRow[]): number {
  const ofParts = parts
    .filter((p) => !coveredByHold(p, holds))
    .reduce((sum, p) => sum + p.price_per_gpu_hour_micros * gpuCountOf(p.gpu_indices_json), 0);
  return holds.reduce((sum, h) => sum + h.price_per_gpu_hour_micros * h.gpu_count, ofParts);
}

/** A hold's cost in whole micro-dollars from its start to `end`: the whole device, every hour. */
export function holdCost(
  hold: Pick<ReservationRow, "price_per_gpu_hour_micros" | "gpu_count" | "started_at">,
  end: number,
): number {
  return Math.round((hold.price_per_gpu_hour_micros * hold.gpu_count * Math.max(0, end - hold.started_at)) / HOUR_MS);
}

/** Micro-dollars spent so far and not yet charged: parts billing now and holds not yet ended. */
export function accruedCost(parts: readonly BilledPartRow[], holds: readonly ReservationRow[], now: number): number {
  const ofParts = parts.filter((p) => !coveredByHold(p, holds)).reduce((sum, p) => sum + partCost(p, now), 0);
  return holds.reduce((sum, h) => sum + holdCost(h, now), ofParts);
}
