/**
 * The matcher's chain of steps (matcher.ts) over a CandidateIndex instead of a list, for a
 * queue pass that places many runs on one snapshot. Same answers, words included: the
 * steps that never change while a pass only takes capacity (who may use what, the cheapest
 * allocation ever and its verdicts) are computed once per snapshot, and the steps over what
 * is free now read the index's heaps. A job wanting no GPUs reads the heap of free job slots
 * when one is free. A pin takes the plain chain: its pool is one device.
 */
import type { Allocation } from "./allocate.js";
import type { CandidateIndex } from "./candidate-index.js";
import { gpusWanted, type JobNeeds, typeFilter } from "./job-needs.js";
import {
  type MatchResult,
  blockedVerdict,
  bindCardVerdict,
  matchJob,
  neverFitsVerdict,
  noPoolVerdict,
  placedOrBalance,
  underCap,
} from "./matcher.js";
import { offerStep } from "./steps.js";
import { gpuWait } from "./wait-reason.js";

/** The cheapest allocation if nothing were running, or the verdict when there is none. */
type Ever = { allocation: Allocation } | { verdict: MatchResult };

function everStep(needs: JobNeeds, index: CandidateIndex): Ever {
  const requester = needs.requesterId ?? null;
  const key = () =>
    `ever\u0000${index.viewKey(requester)}\u0000${typeFilter(needs) ?? ""}\u0000${gpusWanted(needs)}\u0000${needs.allowCrossProvider === true}`;
  return index.memoFor(needs, key, (): Ever => {
    const pool = index.pool(requester);
    if (pool.length === 0) return { verdict: noPoolVerdict(needs) };
    const allocation = index.cheapestEver(requester, typeFilter(needs), gpusWanted(needs), needs.allowCrossProvider === true);
    // Nothing could ever fit: rare, and its words need every offer, so the plain steps say them.
    return allocation ? { allocation } : { verdict: neverFitsVerdict(needs, pool, offerStep(needs, pool)) };
  });
}

export function matchIndexed(needs: JobNeeds, index: CandidateIndex): MatchResult {
  if (needs.resourceId) return matchJob(needs, index.withId(needs.resourceId));
  // Container jobs are rare and their pool is a subset: the plain chain filters it.
  if (needs.container) return matchJob(needs, index.candidates);
  const n = gpusWanted(needs);
  if (n === 0) {
    // No GPUs: the device with the most free job slots. Costing nothing, it is under any cap
    // and needs no card, so where one is free the plain chain places the job there too; its
    // other verdicts (no device, none takes jobs, a wait) are left to the plain chain.
    const now = index.slotNow(needs.requesterId ?? null, needs.allowCrossProvider === true);
    return now ? placedOrBalance(needs, now) : matchJob(needs, index.candidates);
  }

  const ever = everStep(needs, index);
  if ("verdict" in ever) return ever.verdict;
  if (!underCap(needs, ever.allocation)) return blockedVerdict(needs, ever.allocation, (id) => index.nameOf(id));
  const noCard = bindCardVerdict(needs, ever.allocation);
  if (noCard) return noCard;

  // What is free now answers alike for the same needs until a placement takes some: a pass
  // over a full fleet words thousands of waits from one computation per kind of run.
  const now = index.untilNextTake(needs, (): Allocation | MatchResult => {
    const requester = needs.requesterId ?? null;
    const type = typeFilter(needs);
    const allocation = index.cheapestNow(requester, type, n, needs.allowCrossProvider === true);
    if (allocation && underCap(needs, allocation)) return allocation;
    return { kind: "queued", reason: gpuWait(needs, index.freeInPriceOrder(requester, type)) };
  });
  // The balance check reads credit, which changes without a placement (this run's owner's
  // earlier ones): always made anew. placedOrBalance copies the nodes it hands out.
  return "kind" in now ? now : placedOrBalance(needs, now);
}
