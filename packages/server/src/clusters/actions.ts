import { type ClusterAction, type ClusterActionResponse, FedmlError, ResultCode } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { type ClusterRow, ClusterState, findClusterById, listOwnerClusters, updateCluster } from "../store/clusters.js";
import type { UserRow } from "../store/users.js";
import { activateCluster, deactivateCluster, killedMessage, pickCluster } from "./lifecycle.js";
import { toClusterModels } from "./view.js";
import { transition } from "../transition.js";

type Failure = ClusterActionResponse["failures"][number];

/**
 * The caller's clusters by name; another user's answers exactly like an unknown one. Any
 * unknown name fails the whole request (404, code 15) before anything changes.
 */
export async function namedClusters(ctx: ServerContext, ownerId: number, names: string[]): Promise<ClusterRow[]> {
  const unique = [...new Set(names)];
  const rows = await listOwnerClusters(ctx.db, ownerId, unique);
  const unknown = unique.filter((n) => !rows.some((r) => r.name === n));
  if (unknown.length > 0) {
    const list = unknown.join(", ");
    throw new FedmlError(ResultCode.CLUSTER_CONFIRM_FAILED, `no cluster named ${list}`, 404);
  }
  return unique.map((n) => pickCluster(rows, n) as ClusterRow);
}

/**
 * start / stop / kill on named clusters (or all live ones). Idempotent: starting an active
 * cluster, stopping a stopped one or killing a killed one succeeds and changes nothing.
 */
export async function actOnClusters(
  ctx: ServerContext,
  user: UserRow,
  action: ClusterAction,
  target: { names?: string[]; all?: boolean },
): Promise<ClusterActionResponse> {
  const names = target.names ?? [];
  if (!target.all && names.length === 0) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `cluster ${action} needs cluster names or all`, 400);
  }
  let letGo = false;
  // One transaction holding the placement lock: every named cluster changes, or none does.
  const { ids, failures } = await transition(ctx, async (tctx) => {
    const match = await ctx.placement.lock(tctx.db);
    const clusters = target.all
      ? (await listOwnerClusters(tctx.db, user.id)).filter((c) => c.state !== ClusterState.TERMINATED)
      : await namedClusters(tctx, user.id, names);
    const failed: Failure[] = [];
    const fail = (c: ClusterRow, reason: string, code: number = ResultCode.CLUSTER_CONFIRM_FAILED) =>
      failed.push({ clusterName: c.name, resultCode: code, reason });
    for (const cluster of clusters) {
      if (cluster.state === ClusterState.TERMINATED) {
        if (action !== "kill") fail(cluster, killedMessage(cluster.name));
        continue;
      }
      if (action === "start") {
        if (cluster.state === ClusterState.ACTIVE) continue;
        const started = await activateCluster(tctx, cluster, match);
        if (!started.ok) {
          await updateCluster(tctx.db, cluster.id, { reason: `could not start: ${started.reason}` });
          fail(cluster, `cannot start cluster ${cluster.name}: ${started.reason}`);
        }
      } else if (action === "stop") {
        if (cluster.state === ClusterState.STOPPED) continue;
        letGo = (await deactivateCluster(tctx, cluster, ClusterState.STOPPED, "stopped on request")) || letGo;
      } else {
        letGo = (await deactivateCluster(tctx, cluster, ClusterState.TERMINATED, "killed on request")) || letGo;
      }
    }
    return { ids: clusters.map((c) => c.id), failures: failed };
  });
  // Devices let go may take waiting runs now.
  if (letGo) ctx.placement.wake(ctx);
  const rows = (await Promise.all(ids.map((id) => findClusterById(ctx.db, id)))).filter((r): r is ClusterRow => !!r);
  return { done: failures.length === 0, clusterList: await toClusterModels(ctx, rows), failures };
}

/** Sets the idle minutes before auto-stop (0 = never); the idle clock restarts now. */
export async function setAutostop(ctx: ServerContext, user: UserRow, name: string, idleMinutes: number): Promise<ClusterRow> {
  if (!Number.isFinite(idleMinutes) || idleMinutes < 0) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `idle minutes must be a number of minutes, 0 or more (0 = never), not ${idleMinutes}`,
      400,
    );
  }
  return transition(ctx, async (tctx) => {
    const [cluster] = await namedClusters(tctx, user.id, [name]);
    if (cluster.state === ClusterState.TERMINATED) {
      throw new FedmlError(ResultCode.CLUSTER_CONFIRM_FAILED, `cluster ${name} was killed (TERMINATED)`, 409);
    }
    await updateCluster(tctx.db, cluster.id, { idle_minutes: idleMinutes, idle_from: tctx.now() });
    return { ...cluster, idle_minutes: idleMinutes };
  });
}
