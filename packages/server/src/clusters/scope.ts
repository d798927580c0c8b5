import type { CandidateDevice } from "../scheduler/matcher.js";

/** A device held by an active cluster. */
export interface Reservation {
  clusterId: number;
  deviceId: number;
}

/**
 * The cluster hook on the matcher's candidates. Pure.
 * - A run launched on a cluster sees only that cluster's devices.
 * - Any other run still sees reserved devices (so that it queues for them rather than being
 *   told nothing could ever fit) but finds nothing free on them: they serve their cluster only.
 */
export function scopeCandidates(
  candidates: readonly CandidateDevice[],
  reservations: readonly Reservation[],
  clusterId: number | null,
): CandidateDevice[] {
  if (clusterId !== null) {
    const mine = new Set(reservations.filter((r) => r.clusterId === clusterId).map((r) => String(r.deviceId)));
    return candidates.filter((c) => mine.has(c.deviceId));
  }
  const reserved = new Set(reservations.map((r) => String(r.deviceId)));
  return candidates.map((c) => (reserved.has(c.deviceId) ? { ...c, freeGpuIndices: [], freeSlots: 0 } : c));
}
