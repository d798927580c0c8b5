/**
 * The matcher: a pure function from (what a job needs, the devices it might use with what is
 * free on them) to a gang placement on one or more devices, or a verdict with a reason in
 * words. No I/O: placement.ts feeds it from the store, the dry run and the queue reuse it.
 *
 * It is a chain of small steps (like Nomad's scheduler iterators):
 *   pin (resourceId) -> who may use it (own or shared) -> GPU model/type -> offers with an
 *   effective price -> could it ever fit (else no_resources) -> under the price cap ever
 *   (else blocked) -> credit for paid devices (else credit) -> fits now under the cap
 *   (else queued) -> placed.
 */
import { type AllocOffer, type Allocation, allocate } from "./allocate.js";
import {
  type CandidateDevice,
  type CreditStanding,
  type JobNeeds,
  type Offer,
  capMicros,
  describeWant,
  gpusWanted,
  plural,
  usd,
} from "./job-needs.js";
import { containerStep, mayUseStep, offerStep, pinStep } from "./steps.js";
import { describeWait } from "./wait-reason.js";

export type { CandidateDevice, CreditStanding, JobNeeds, Offer };

export interface PlacedNode {
  deviceId: string;
  gpuIndices: number[];
  /** What the requester pays per GPU-hour on this device, whole micro-dollars (0 on their own). */
  pricePerGpuHour: number;
}

export type MatchResult =
  | {
      kind: "placed";
      /** Node 0 first; every node starts together or none does (gang). */
      nodes: PlacedNode[];
      /** Whole micro-dollars per hour for the whole job. */
      pricePerHour: number;
      /** Node 0's device and GPUs, for callers that place on one device. */
      deviceId: string;
      gpuIndices: number[];
    }
  | { kind: "queued"; reason: string }
  | { kind: "no_resources"; reason: string }
  | { kind: "blocked"; reason: string }
  | { kind: "credit"; need: "bind_card" | "balance"; reason: string };

export type Placed = Extract<MatchResult, { kind: "placed" }>;

function toAlloc(offer: Offer, when: "ever" | "now"): AllocOffer {
  return {
    deviceId: offer.device.deviceId,
    gpuIndices: when === "ever" ? offer.matchingAll : offer.matchingFree,
    pricePerGpuHour: offer.pricePerGpuHour,
    freeSlots: when === "ever" ? offer.device.maxJobs : offer.device.freeSlots,
    provider: offer.device.provider ?? "",
  };
}

/** The cheapest allocation if nothing were running (`ever`) or with what is free (`now`). */
export function cheapest(needs: JobNeeds, offers: readonly Offer[], when: "ever" | "now"): Allocation | null {
  return allocate(
    offers.map((o) => toAlloc(o, when)),
    gpusWanted(needs),
    needs.allowCrossProvider === true,
  );
}

export function underCap(needs: JobNeeds, allocation: Allocation): boolean {
  return allocation.pricePerHour === 0 || allocation.pricePerHour <= capMicros(needs);
}

function nameOf(offers: readonly Offer[], deviceId: string): string {
  return offers.find((o) => o.device.deviceId === deviceId)?.device.name ?? deviceId;
}

// The verdicts in words, shared with the indexed matcher (indexed-match.ts) so both answer alike.

export function noPoolVerdict(needs: JobNeeds): MatchResult {
  return {
    kind: "no_resources",
    reason: needs.resourceId
      ? `device ${needs.resourceId} is not an online device of yours or a shared one`
      : "no device is online for you: bind a machine with fedml device bind",
  };
}

/** A container job where none of the devices the requester may use has docker or podman. */
export function noRuntimeVerdict(usable: number): MatchResult {
  return {
    kind: "no_resources",
    reason: `the job runs in a container (docker: image) and none of the ${plural(usable, "device")} you may use has docker or podman`,
  };
}

export function neverFitsVerdict(needs: JobNeeds, pool: readonly CandidateDevice[], offers: readonly Offer[]): MatchResult {
  const n = gpusWanted(needs);
  const total = offers.reduce((s, o) => s + o.matchingAll.length, 0);
  const most = offers.reduce((best, o) => (o.matchingAll.length > best.matchingAll.length ? o : best));
  const providers = new Set(offers.map((o) => o.device.provider ?? ""));
  const cross = needs.allowCrossProvider || providers.size < 2 ? "" : " from one provider (allow_cross_cloud_resources is off)";
  return {
    kind: "no_resources",
    reason:
      n > 0
        ? `no set of devices can ever fit ${describeWant(needs)}${cross}: ${plural(pool.length, "device")} with ${total} such GPUs in all, the most any has is ${most.matchingAll.length} (${most.device.name})`
        : `no device takes jobs (every one has max_jobs 0)`,
  };
}

export function blockedVerdict(needs: JobNeeds, ever: Allocation, nameOfDevice: (deviceId: string) => string): MatchResult {
  const cap =
    needs.maximumCostPerHour === 0
      ? "the job allows no paid resources (maximum_cost_per_hour $0)"
      : `the job's cap is ${usd(capMicros(needs))}/hour`;
  return {
    kind: "blocked",
    reason: `${cap} and every allocation that fits costs more (cheapest: ${usd(ever.pricePerHour)}/hour on ${ever.nodes
      .map((node) => nameOfDevice(node.deviceId))
      .join(" + ")})`,
  };
}

/** The credit check on the cheapest allocation ever; null when credit does not stop the job. */
export function bindCardVerdict(needs: JobNeeds, ever: Allocation): MatchResult | null {
  if (!needs.credit || ever.pricePerHour <= 0 || needs.credit.cardBound) return null;
  return {
    kind: "credit",
    need: "bind_card",
    reason: `every device that fits is paid (from ${usd(ever.pricePerHour)}/hour) and you have no credit: ask an admin to grant some (fedml user credit)`,
  };
}

/** The last steps once an allocation fits now under the cap: the balance check, then placed. */
export function placedOrBalance(needs: JobNeeds, now: Allocation): MatchResult {
  // A paid placement comes on top of everything the user already pays for: the balance must
  // cover one hour of all of it, so $1 cannot run sixteen $1/h jobs at once.
  const committed = now.pricePerHour > 0 ? (needs.credit?.committedMicrosPerHour ?? 0) : 0;
  if (needs.credit && committed + now.pricePerHour > needs.credit.balanceMicros) {
    const already = committed > 0 ? ` on top of the ${usd(committed)}/hour you already pay` : "";
    return {
      kind: "credit",
      need: "balance",
      reason: `the cheapest placement costs ${usd(now.pricePerHour)}/hour${already} and your balance is ${usd(needs.credit.balanceMicros)}: it must cover one hour`,
    };
  }
  const nodes = now.nodes.map((node) => ({ ...node }));
  return { kind: "placed", nodes, pricePerHour: now.pricePerHour, deviceId: nodes[0].deviceId, gpuIndices: nodes[0].gpuIndices };
}

/** The placement decision; see the file comment for the order of the steps. */
export function matchJob(needs: JobNeeds, candidates: readonly CandidateDevice[]): MatchResult {
  const usable = mayUseStep(needs, pinStep(needs, candidates));
  const pool = containerStep(needs, usable);
  if (pool.length === 0) return usable.length > 0 ? noRuntimeVerdict(usable.length) : noPoolVerdict(needs);
  const offers = offerStep(needs, pool);

  const ever = cheapest(needs, offers, "ever");
  if (!ever) return neverFitsVerdict(needs, pool, offers);
  if (!underCap(needs, ever)) return blockedVerdict(needs, ever, (id) => nameOf(offers, id));
  const noCard = bindCardVerdict(needs, ever);
  if (noCard) return noCard;

  const now = cheapest(needs, offers, "now");
  if (!now || !underCap(needs, now)) {
    const runtimes = needs.container ? " (a container job: only devices with docker or podman count)" : "";
    return { kind: "queued", reason: `${describeWait(needs, offers)}${runtimes}` };
  }
  return placedOrBalance(needs, now);
}
