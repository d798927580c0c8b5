/**
 * Why a job waits, in words a user can act on:
 * "needs 4 x A100 under $2.00/h; 3 free within the cap, the cheapest 4th at $2.40/h on runpod".
 */
import { type JobNeeds, type Offer, describeWant, gpusWanted, usd } from "./job-needs.js";

export function describeWait(needs: JobNeeds, offers: readonly Offer[]): string {
  const n = gpusWanted(needs);
  const cap = needs.maximumCostPerHour > 0 ? ` under ${usd(needs.maximumCostPerHour)}/h` : " on free devices";
  const head = `needs ${describeWant(needs)}${cap}`;
  if (n === 0) {
    const busy = offers.map((o) => o.device.name).slice(0, 3);
    return `needs ${describeWant(needs)}; every job slot is taken (${busy.join(", ")})`;
  }
  const free = offers
    .filter((o) => o.device.freeSlots >= 1)
    .flatMap((o) => o.matchingFree.map(() => o))
    .sort((a, b) => a.pricePerGpuHour - b.pricePerGpuHour);
  let spent = 0;
  let within = 0;
  for (const o of free) {
    if (within === n || (spent + o.pricePerGpuHour > needs.maximumCostPerHour + 1e-9 && o.pricePerGpuHour > 0)) break;
    spent += o.pricePerGpuHour;
    within += 1;
  }
  const next = free[within];
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
