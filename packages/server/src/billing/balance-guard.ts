/**
 * Stops what a user pays for once their balance is spent: every paid run part still billing
 * and every cluster holding another owner's paid device. Runs end KILLED with an
 * OUT_OF_BALANCE reason; clusters stop (kept, startable again once credit is granted).
 */
import type { ServerContext } from "../context.js";
import { deactivateCluster } from "../clusters/lifecycle.js";
import { stopRunLocked } from "../runs/stop.js";
import { ClusterState, findClusterById } from "../store/clusters.js";
import { readBalances } from "../store/credit.js";
import { type ReservationRow, listOpenReservations, openHoldDigests } from "../store/reservations.js";
import {
  type BilledPartRow,
  allBillingPartsDigest,
  billingPartDigests,
  listBillingParts,
  listClusterPartsOn,
} from "../store/runs.js";
import { transition } from "../transition.js";
import { accruedCost, hourlyCommitment } from "./commitments.js";
import { partCost } from "./part-cost.js";
import { groupBy } from "./standing.js";
import { SteadySpans } from "./steady-spans.js";

export const OUT_OF_BALANCE_REASON = "OUT_OF_BALANCE: the owner's credit ran out";

/** Parts of the hold's cluster that ended on its device: charged already, so not owed again by the hold. */
async function endedCoveredCost(ctx: ServerContext, hold: ReservationRow, now: number): Promise<number> {
  const parts = await listClusterPartsOn(ctx.db, hold.cluster_id, hold.device_id, hold.started_at);
  return parts.filter((p) => p.ended_at !== null).reduce((sum, p) => sum + partCost(p, now), 0);
}

/** Longest an owner goes without a full recount, whatever their digest says (see OwnerWatch). */
export const FULL_RECOUNT_MS = 60_000;
/** Share of an owner's computed runway trusted before they are recounted. */
const RUNWAY_TRUSTED = 0.9;
const HOUR_MS = 3_600_000;

/**
 * What the guard remembers of an owner it found in credit. Rereading every billing part of
 * every owner each second was the main cost of an idle full fleet, yet an owner with slack S
 * who burns R per ms cannot run out before S / R ms have passed on the monotonic clock (spend
 * is measured on it), unless their inputs change: a part or hold of theirs starts or ends (the
 * burn rate may grow) or their balance moves other than by time. So each tick reads only a
 * per-owner digest of those inputs (two grouped queries and the balances) and recounts an
 * owner in full only when the digest changed, their trusted runway is spent, or FULL_RECOUNT_MS
 * passed (a safety net for anything the digest misses, e.g. a row edited by hand).
 */
interface OwnerWatch {
  /** Per owner, so an owner not recounted keeps the first sight of each of their parts. */
  spans: SteadySpans;
  inputs: string;
  recountAtMono: number;
}

/**
 * The check the server runs each tick. Spend so far is measured on the monotonic clock
 * (`SteadySpans`), so a wall-clock step stops nobody early. Answers how many users were stopped.
 */
export function outOfBalanceGuard(ctx: ServerContext): () => Promise<number> {
  const memory: GuardMemory = {
    watches: new Map(),
    fullRecountAtMono: Number.NEGATIVE_INFINITY,
    allParts: null,
    partDigests: new Map(),
  };
  return async () => {
    const mono = ctx.options.clock.mono();
    const full = mono >= memory.fullRecountAtMono;
    if (full) memory.fullRecountAtMono = mono + FULL_RECOUNT_MS;
    return stopWhatIsOutOfBalance(ctx, memory, mono, full);
  };
}

interface GuardMemory {
  watches: Map<number, OwnerWatch>;
  fullRecountAtMono: number;
  /** allBillingPartsDigest when partDigests were read: an idle fleet skips the grouped read. */
  allParts: string | null;
  partDigests: Map<number, string>;
}

async function stopWhatIsOutOfBalance(ctx: ServerContext, memory: GuardMemory, mono: number, full: boolean): Promise<number> {
  const { watches } = memory;
  const allParts = await allBillingPartsDigest(ctx.db);
  if (full || allParts !== memory.allParts) {
    memory.partDigests = await billingPartDigests(ctx.db);
    memory.allParts = allParts;
  }
  const partDigests = memory.partDigests;
  const holdDigests = await openHoldDigests(ctx.db);
  const committed = [...new Set([...partDigests.keys(), ...holdDigests.keys()])];
  const digestBalances = await readBalances(ctx.db, committed);
  for (const owner of watches.keys()) if (!partDigests.has(owner) && !holdDigests.has(owner)) watches.delete(owner);
  const inputsOf = new Map(
    committed.map((o) => [o, `${partDigests.get(o)}|${holdDigests.get(o)}|${digestBalances.get(o)?.balanceMicros}`]),
  );
  const owners = committed.filter((o) => {
    const watch = watches.get(o);
    return full || !watch || watch.inputs !== inputsOf.get(o) || mono >= watch.recountAtMono;
  });
  if (owners.length === 0) return 0;
  const now = ctx.now();
  const partKey = (p: BilledPartRow) => `part:${p.run_id}:${p.node_index}`;
  const holdKey = (h: ReservationRow) => `hold:${h.id}`;
  // One pass to group, one query for every balance, rather than a scan and a query per owner.
  const partsOf = groupBy(await listBillingParts(ctx.db, owners), (p) => p.owner_id);
  const holdsOf = groupBy(await listOpenReservations(ctx.db, owners), (h) => h.payer_id);
  // Read after the parts, as before: a part settled in between then counts twice (stops
  // early), never not at all.
  const balances = await readBalances(ctx.db, owners);
  let stopped = 0;
  for (const owner of owners) {
    const spans = watches.get(owner)?.spans ?? new SteadySpans(ctx.options.clock);
    const live = partsOf.get(owner) ?? [];
    const open = holdsOf.get(owner) ?? [];
    spans.keepOnly(new Set([...live.map(partKey), ...open.map(holdKey)]));
    const mine = spans.rebase(live, partKey, now);
    const held = spans.rebase(open, holdKey, now);
    let owed = accruedCost(mine, held, now);
    for (const hold of held) owed -= await endedCoveredCost(ctx, hold, now);
    const balanceMicros = balances.get(owner)?.balanceMicros ?? 0;
    const slack = balanceMicros - owed;
    if (slack > 0) {
      // Each cost is rounded to a whole micro-dollar: allow one per part and hold.
      const burnPerMs = hourlyCommitment(mine, held) / HOUR_MS;
      const runway = burnPerMs > 0 ? (RUNWAY_TRUSTED * Math.max(0, slack - live.length - open.length)) / burnPerMs : Infinity;
      watches.set(owner, { spans, inputs: inputsOf.get(owner) ?? "", recountAtMono: mono + runway });
      continue;
    }
    watches.delete(owner);
    stopped++;
    // One transaction holding the placement lock: nothing is placed for them meanwhile.
    await transition(ctx, async (tctx) => {
      await ctx.placement.lock(tctx.db);
      for (const runId of new Set(mine.map((p) => p.run_id))) {
        await stopRunLocked(tctx, runId, OUT_OF_BALANCE_REASON, OUT_OF_BALANCE_REASON);
      }
      for (const clusterId of new Set(held.map((h) => h.cluster_id))) {
        const cluster = await findClusterById(tctx.db, clusterId);
        if (cluster?.state === ClusterState.ACTIVE) {
          await deactivateCluster(tctx, cluster, ClusterState.STOPPED, OUT_OF_BALANCE_REASON);
        }
      }
      tctx.log.warn({ event: "user.out_of_balance", userId: owner, owedMicros: owed, balanceMicros }, "out of balance: stopped");
    });
  }
  if (stopped > 0) ctx.placement.wake(ctx);
  return stopped;
}
