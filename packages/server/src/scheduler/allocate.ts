/**
 * The allocation core: the cheapest way to take `gpus` GPUs from a set of offers. Pure.
 *
 * Every GPU is a unit with its device's price, so a cheapest allocation takes every GPU
 * priced below some marginal price and the rest at that price; among those, the fewest
 * devices come from taking the offers at the marginal price with the most GPUs first
 * (ties: the least loaded, i.e. most free job slots, then the lowest id).
 */

/** One device as the allocator sees it: the GPUs it may hand out now (or ever). */
export interface AllocOffer {
  deviceId: string;
  /** GPU indices this offer may hand out, ascending. */
  gpuIndices: number[];
  /** The requester's price, whole micro-dollars per GPU-hour (sums stay exact). */
  pricePerGpuHour: number;
  /** Job slots left (load tie-break); an offer with none is never used. */
  freeSlots: number;
  /** Grouping for "one provider only" jobs. */
  provider: string;
}

export interface AllocNode {
  deviceId: string;
  gpuIndices: number[];
  pricePerGpuHour: number;
}

export interface Allocation {
  nodes: AllocNode[];
  /** Whole micro-dollars per hour for the whole job. */
  pricePerHour: number;
}

/** Device ids in numeric order when they are numbers: shorter first, then by text. */
export const byId = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

function rank(a: AllocOffer, b: AllocOffer): number {
  return (
    a.pricePerGpuHour - b.pricePerGpuHour ||
    b.gpuIndices.length - a.gpuIndices.length ||
    b.freeSlots - a.freeSlots ||
    byId(a.deviceId, b.deviceId)
  );
}

/** Orders allocations: cheaper, then fewer devices, then more free slots left in total. */
export function compareAllocations(a: Allocation, b: Allocation, slotsOf: (deviceId: string) => number): number {
  const cost = a.pricePerHour - b.pricePerHour;
  if (cost !== 0) return cost;
  const nodes = a.nodes.length - b.nodes.length;
  if (nodes !== 0) return nodes;
  const slots = (x: Allocation) => x.nodes.reduce((s, n) => s + slotsOf(n.deviceId), 0);
  return slots(b) - slots(a);
}

/** Cheapest allocation of `gpus` GPUs over any mix of offers; null when they cannot fit it. */
export function allocateGreedy(offers: readonly AllocOffer[], gpus: number): Allocation | null {
  const usable = offers.filter((o) => o.freeSlots >= 1 && (gpus === 0 || o.gpuIndices.length > 0));
  if (gpus === 0) {
    // No GPUs wanted: one device with a free slot; all cost nothing, so the least loaded.
    const best = [...usable].sort((a, b) => b.freeSlots - a.freeSlots || byId(a.deviceId, b.deviceId))[0];
    return best
      ? { nodes: [{ deviceId: best.deviceId, gpuIndices: [], pricePerGpuHour: best.pricePerGpuHour }], pricePerHour: 0 }
      : null;
  }
  const nodes: AllocNode[] = [];
  let left = gpus;
  let pricePerHour = 0;
  for (const offer of [...usable].sort(rank)) {
    if (left === 0) break;
    const take = offer.gpuIndices.slice(0, left);
    nodes.push({ deviceId: offer.deviceId, gpuIndices: take, pricePerGpuHour: offer.pricePerGpuHour });
    pricePerHour += take.length * offer.pricePerGpuHour;
    left -= take.length;
  }
  return left === 0 ? { nodes, pricePerHour } : null;
}

/**
 * Cheapest allocation, optionally within a single provider (the job's
 * `allow_cross_cloud_resources: false`): the best of each provider's own allocation.
 */
export function allocate(offers: readonly AllocOffer[], gpus: number, crossProvider: boolean): Allocation | null {
  if (crossProvider) return allocateGreedy(offers, gpus);
  const slots = new Map(offers.map((o) => [o.deviceId, o.freeSlots]));
  const providers = [...new Set(offers.map((o) => o.provider))];
  let best: Allocation | null = null;
  for (const provider of providers) {
    const found = allocateGreedy(
      offers.filter((o) => o.provider === provider),
      gpus,
    );
    if (found && (!best || compareAllocations(found, best, (id) => slots.get(id) ?? 0) < 0)) best = found;
  }
  return best;
}
