import type { ServerContext } from "../context.js";
import { type ClusterRow, ClusterState, lastClusterRunEnd, listActiveClusters, listLiveClusterRuns } from "../store/clusters.js";
import { transition } from "../transition.js";
import { deactivateCluster } from "./lifecycle.js";
import { idleStopAt } from "./status.js";

const minutes = (m: number) => (Number.isInteger(m) ? String(m) : m.toFixed(3).replace(/0+$/, ""));

async function dueToStop(ctx: ServerContext, cluster: ClusterRow): Promise<boolean> {
  if (!(cluster.idle_minutes > 0)) return false;
  if ((await listLiveClusterRuns(ctx.db, [cluster.id])).length > 0) return false;
  const at = idleStopAt(cluster.idle_minutes, cluster.idle_from, await lastClusterRunEnd(ctx.db, cluster.id));
  return at !== null && ctx.now() >= at;
}

/**
 * Stops every active cluster idle for longer than its idle minutes (the background tick calls
 * it): each in its own placement transaction, deciding again on what it reads there.
 */
export async function sweepIdleClusters(ctx: ServerContext): Promise<number> {
  let stopped = 0;
  for (const candidate of await listActiveClusters(ctx.db)) {
    // Decided first on a plain read: only a cluster due to stop costs a placement transaction.
    if (!(await dueToStop(ctx, candidate))) continue;
    const done = await transition(ctx, async (tctx) => {
      await ctx.placement.lock(tctx.db);
      const cluster = (await listActiveClusters(tctx.db)).find((c) => c.id === candidate.id);
      if (!cluster || !(await dueToStop(tctx, cluster))) return false;
      const reason = `stopped after ${minutes(cluster.idle_minutes)} idle minutes`;
      if (!(await deactivateCluster(tctx, cluster, ClusterState.STOPPED, reason))) return false;
      tctx.log.info({ event: "cluster.auto_stopped", clusterId: cluster.id, name: cluster.name, reason }, "cluster auto-stopped");
      return true;
    });
    if (done) stopped++;
  }
  if (stopped > 0) ctx.placement.wake(ctx);
  return stopped;
}
