import type { ServerContext } from "../context.js";
import { ClusterState, lastClusterRunEnd, listActiveClusters, listLiveClusterRuns } from "../store/clusters.js";
import { deactivateCluster } from "./lifecycle.js";
import { idleStopAt } from "./status.js";

const minutes = (m: number) => (Number.isInteger(m) ? String(m) : m.toFixed(3).replace(/0+$/, ""));

/** Stops every active cluster idle for longer than its idle minutes (the background tick calls it). */
export async function sweepIdleClusters(ctx: ServerContext): Promise<void> {
  const stopped = await ctx.placement.exclusive(async () => {
    let count = 0;
    const now = ctx.now();
    for (const cluster of await listActiveClusters(ctx.db)) {
      if (!(cluster.idle_minutes > 0)) continue;
      if ((await listLiveClusterRuns(ctx.db, [cluster.id])).length > 0) continue;
      const at = idleStopAt(cluster.idle_minutes, cluster.idle_from, await lastClusterRunEnd(ctx.db, cluster.id));
      if (at === null || now < at) continue;
      const reason = `stopped after ${minutes(cluster.idle_minutes)} idle minutes`;
      await deactivateCluster(ctx, cluster, ClusterState.STOPPED, reason);
      count++;
    }
    return count;
  });
  if (stopped > 0) await ctx.placement.placeQueued();
}
