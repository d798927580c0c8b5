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
import { type ReservationRow, listOpenReservations } from "../store/reservations.js";
import { type BilledPartRow, listBillingParts, listClusterPartsOn } from "../store/runs.js";
import { transition } from "../transition.js";
import { accruedCost } from "./commitments.js";
import { partCost } from "./part-cost.js";
import { groupBy } from "./standing.js";
import { SteadySpans } from "./steady-spans.js";

export const OUT_OF_BALANCE_REASON = "OUT_OF_BALANCE: the owner's credit ran out";

/** Parts of the hold's cluster that ended on its device: charged already, so not owed again by the hold. */
async function endedCoveredCost(ctx: ServerContext, hold: ReservationRow, now: number): Promise<number> {
  const parts = await listClusterPartsOn(ctx.db, hold.cluster_id, hold.device_id, hold.started_at);
  return parts.filter((p) => p.ended_at !== null).reduce((sum, p) => sum + partCost(p, now), 0);
}

/**
 * The check the server runs each tick. Spend so far is measured on the monotonic clock
 * (`SteadySpans`), so a wall-clock step stops nobody early. Answers how many users were stopped.
 */
export function outOfBalanceGuard(ctx: ServerContext): () => Promise<number> {
  const spans = new SteadySpans(ctx.options.clock);
  return () => stopWhatIsOutOfBalance(ctx, spans);
}

async function stopWhatIsOutOfBalance(ctx: ServerContext, spans: SteadySpans): Promise<number> {
  const now = ctx.now();
  const partKey = (p: BilledPartRow) => `part:${p.run_id}:${p.node_index}`;
  const holdKey = (h: ReservationRow) => `hold:${h.id}`;
  const billing = await listBillingParts(ctx.db);
  const open = await listOpenReservations(ctx.db);
  spans.keepOnly(new Set([...billing.map(partKey), ...open.map(holdKey)]));
  const parts = spans.rebase(billing, partKey, now);
  const holds = spans.rebase(open, holdKey, now);
  // Every replica runs this each tick over every live part: one pass to group, one query for
  // every balance, rather than a scan and a query per owner.
  const partsOf = groupBy(parts, (p) => p.owner_id);
  const holdsOf = groupBy(holds, (h) => h.payer_id);
  const owners = [...new Set([...partsOf.keys(), ...holdsOf.keys()])];
  const balances = await readBalances(ctx.db, owners);
  let stopped = 0;
  for (const owner of owners) {
    const mine = partsOf.get(owner) ?? [];
    const held = holdsOf.get(owner) ?? [];
    let owed = accruedCost(mine, held, now);
    for (const hold of held) owed -= await endedCoveredCost(ctx, hold, now);
    const balanceMicros = balances.get(owner)?.balanceMicros ?? 0;
    if (balanceMicros - owed > 0) continue;
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
