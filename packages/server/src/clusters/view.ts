import { type FedMLClusterModel, RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { type ClusterRow, listClusterDevices, listLiveClusterRuns } from "../store/clusters.js";
import { clusterStatusOf } from "./status.js";

const waiting = new Set<string>([RunStatus.QUEUED, RunStatus.CLUSTER_QUEUE]);

/** A stored cluster as the SDK's FedMLClusterModel; `liveRuns` oldest first. Pure. */
export function toClusterModel(
  row: ClusterRow,
  deviceIds: number[],
  liveRuns: readonly { id: number; status: string }[],
): FedMLClusterModel {
  const liveRunIds = liveRuns.map((r) => r.id);
  return {
    clusterName: row.name,
    clusterId: String(row.id),
    status: clusterStatusOf(row.state, liveRunIds.length),
    deviceIds: deviceIds.map(String),
    idleMinutes: row.idle_minutes,
    liveRunIds: liveRunIds.map(String),
    queuedRunIds: liveRuns.filter((r) => waiting.has(r.status)).map((r) => String(r.id)),
    createdTime: row.created_at,
    reason: row.reason,
  };
}

export async function toClusterModels(ctx: ServerContext, rows: ClusterRow[]): Promise<FedMLClusterModel[]> {
  const ids = rows.map((r) => r.id);
  const devices = await listClusterDevices(ctx.db, ids);
  const live = await listLiveClusterRuns(ctx.db, ids);
  return rows.map((row) =>
    toClusterModel(
      row,
      devices.filter((d) => d.cluster_id === row.id).map((d) => d.device_id),
      live.filter((r) => r.cluster_id === row.id),
    ),
  );
}
