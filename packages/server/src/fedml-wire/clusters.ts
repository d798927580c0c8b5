import { type ClusterAction, FedmlError, ResultCode } from "@fedml/core";
import { actOnClusters, setAutostop } from "../clusters/actions.js";
import { pickCluster } from "../clusters/lifecycle.js";
import { toClusterModels } from "../clusters/view.js";
import type { ServerContext } from "../context.js";
import { ClusterState, listOwnerClusters } from "../store/clusters.js";
import type { UserRow } from "../store/users.js";

/**
 * The names a clusterNameList means. `cluster_status("name")` with a plain string sends the
 * name's characters as the list: single characters that join into a cluster's name mean it.
 */
export async function meantNames(ctx: ServerContext, user: UserRow, list: string[]): Promise<string[]> {
  if (list.length > 1 && list.every((n) => n.length === 1)) {
    const joined = list.join("");
    if ((await listOwnerClusters(ctx.db, user.id, [joined])).length > 0) return [joined];
  }
  return list;
}

/** getClusterStatus: the named clusters (unknown names left out), or every live one. */
export async function wireClusterStatus(ctx: ServerContext, user: UserRow, list: string[]) {
  const names = await meantNames(ctx, user, list);
  const rows = await listOwnerClusters(ctx.db, user.id, names.length > 0 ? names : undefined);
  const picked =
    names.length > 0
      ? names.map((n) => pickCluster(rows, n)).filter((r) => r !== undefined)
      : rows.filter((r) => r.state !== ClusterState.TERMINATED).reverse();
  const models = await toClusterModels(ctx, [...new Set(picked)]);
  return models.map((m) => ({ id: m.clusterId, shortName: m.clusterName, status: m.status }));
}

/** startCluster / stopCluster / shutDownCluster on the named clusters ([] = all), through the native action. */
export async function wireClusterAction(ctx: ServerContext, user: UserRow, action: ClusterAction, list: string[]) {
  const names = await meantNames(ctx, user, list);
  const result = await actOnClusters(ctx, user, action, names.length > 0 ? { names } : { all: true });
  if (!result.done) {
    const failure = result.failures[0];
    throw new FedmlError(
      failure?.resultCode ?? ResultCode.CLUSTER_CONFIRM_FAILED,
      result.failures.map((f) => f.reason).join("; "),
      409,
    );
  }
  return result.clusterList.map((m) => ({ id: m.clusterId, shortName: m.clusterName, status: m.status }));
}

export async function wireAutostop(ctx: ServerContext, user: UserRow, name: string, minutes: number) {
  const row = await setAutostop(ctx, user, name, minutes);
  return { id: String(row.id), shortName: row.name, idleMinutes: minutes };
}

/** Only checks the cluster is the caller's: runs on a cluster start without confirmation (user_check false). */
export async function wireConfirmMachines(ctx: ServerContext, user: UserRow, clusterId: string) {
  const rows = await listOwnerClusters(ctx.db, user.id);
  if (!rows.some((r) => String(r.id) === clusterId || r.name === clusterId)) {
    throw new FedmlError(ResultCode.CLUSTER_CONFIRM_FAILED, `no cluster ${clusterId}`, 404);
  }
  return true;
}
