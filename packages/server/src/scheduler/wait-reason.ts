/**
 * Why a job waits, in words a user can act on:
 * "needs 4 x A100 under $2.00/h; 3 free within the cap, the cheapest 4th at $2.40/h on runpod".
 */
import { type CandidateDevice, type JobNeeds, type Offer, capMicros, describeWant, gpusWanted, usd } from "./job-needs.js";

/** Free GPUs of the wanted type on one device with a free job slot, at the requester's price. */
export interface FreeGroup {
  device: CandidateDevice;
  pricePerGpuHour: number;
  free: number;
}

export function describeWait(needs: JobNeeds, offers: readonly Offer[]): string {
  if (gpusWanted(needs) === 0) return slotWait(needs, offers);
  // Stable sort: equal prices keep the candidates' order.
  const groups = offers
    .filter((o) => o.device.freeSlots >= 1 && o.matchingFree.length > 0)
    .map((o) => ({ device: o.device, pricePerGpuHour: o.pricePerGpuHour, free: o.matchingFree.length }))
    .sort((a, b) => a.pricePerGpuHour - b.pricePerGpuHour);
  return gpuWait(needs, groups);
}

export function slotWait(needs: JobNeeds, offers: readonly Offer[]): string {
  const busy = offers.map((o) => o.device.name).slice(0, 3);
  return `needs ${describeWant(needs)}; every job slot is taken (${busy.join(", ")})`;
}

/**
 * The wait of a job wanting GPUs, from the free GPUs cheapest first (ties in the candidates'
 * order). Reads `groups` only as far as it needs, so an index can hand them out lazily.
 */
export function gpuWait(needs: JobNeeds, groups: Iterable<FreeGroup>): string {
  const n = gpusWanted(needs);
  const cap = needs.maximumCostPerHour > 0 ? ` under ${usd(capMicros(needs))}/h` : " on free devices";
  const head = `needs ${describeWant(needs)}${cap}`;
  let spent = 0;
  let within = 0;
  let next: FreeGroup | undefined;
  walk: for (const g of groups) {
    for (let k = 0; k < g.free; k++) {
      if (within === n || (spent + g.pricePerGpuHour > capMicros(needs) && g.pricePerGpuHour > 0)) {
        next = g;
        break walk;
      }
      spent += g.pricePerGpuHour;
      within += 1;
    }
  }
  if (!next) {
    return `${head}; ${within} free now, the rest are busy`;
  }
  const where = next.device.provider ? `${next.device.name} (${next.device.provider})` : next.device.name;
  return `${head}; ${within} free within the cap, the cheapest ${ordinal(within + 1)} at ${usd(next.pricePerGpuHour)}/h on ${where}`;
}

function ordinal(k: number): string {
  const suffix = k % 100 >= 11 && k % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][k % 10] ?? "th");
  return `${k}${suffix}`;
}
