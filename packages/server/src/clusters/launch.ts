import { CLUSTER_NAME_PATTERN, DEFAULT_CLUSTER_IDLE_MINUTES, FedmlError, ResultCode, RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { type LaunchDecision, refuse } from "../scheduler/launch-decision.js";
import type { JobNeeds, PlacedNode } from "../scheduler/matcher.js";
import type { Match } from "../scheduler/placement.js";
import { ClusterState, insertCluster, listLiveClusterRuns, listOwnerClusters, setClusterDevices } from "../store/clusters.js";
import { activateCluster, pickCluster } from "./lifecycle.js";

const namePattern = new RegExp(CLUSTER_NAME_PATTERN);

/** A cluster name a launch may use; else the one-line error (code 16, nothing stored). */
export function checkClusterName(name: string): void {
  if (!namePattern.test(name)) {
    throw new FedmlError(
      ResultCode.CLUSTER_CREATION_FAILED,
      `invalid cluster name "${name}": letters, digits, _ . - (up to 64, starting with a letter or digit)`,
      400,
    );
  }
}

/**
 * Where a launch with `-c NAME` goes (inside the launch's placement transaction). An unknown
 * name creates the cluster from the devices matched for this job, or fails with 16. A known
 * one runs the job on its devices, in submission order: the run waits CLUSTER_QUEUE (code 5)
 * while an earlier one waits or the devices are busy. A stopped cluster is started again
 * first (written in the transaction, so a refusal rolls it back); a job it can never hold
 * fails with 15.
 */
export async function decideOnCluster(
  ctx: ServerContext,
  match: Match,
  ownerId: number,
  name: string,
  needs: JobNeeds,
): Promise<LaunchDecision> {
  const existing = pickCluster(await listOwnerClusters(ctx.db, ownerId, [name]), name);
  if (!existing || existing.state === ClusterState.TERMINATED) {
    const verdict = await match(ownerId, needs);
    if (verdict.kind !== "placed")
      return refuse(ResultCode.CLUSTER_CREATION_FAILED, `cannot create cluster ${name}: ${verdict.reason}`);
    return { kind: "place", nodes: verdict.nodes, firstRank: 1, clusterId: null, createCluster: name };
  }
  if (existing.state === ClusterState.STOPPED) {
    const started = await activateCluster(ctx, existing, match);
    if (!started.ok) {
      return refuse(ResultCode.CLUSTER_CONFIRM_FAILED, `cluster ${name} is STOPPED and cannot start again: ${started.reason}`);
    }
  }
  const waiting = (await listLiveClusterRuns(ctx.db, [existing.id])).filter((r) => r.status === RunStatus.CLUSTER_QUEUE);
  // Even a job that waits its turn must fit the cluster some day.
  const verdict = await match(ownerId, needs, existing.id);
  if (verdict.kind === "no_resources" || verdict.kind === "blocked" || verdict.kind === "credit") {
    return refuse(ResultCode.CLUSTER_CONFIRM_FAILED, `cluster ${name} cannot run this job: ${verdict.reason}`);
  }
  if (waiting.length === 0 && verdict.kind === "placed") {
    return { kind: "place", nodes: verdict.nodes, firstRank: 1, clusterId: existing.id };
  }
  const reason =
    waiting.length === 0 && verdict.kind === "queued"
      ? `waiting for its turn on cluster ${name}: ${verdict.reason}`
      : `waiting for its turn on cluster ${name} behind ${waiting.length} earlier run${waiting.length === 1 ? "" : "s"}`;
  return { kind: "queue", reason, clusterId: existing.id };
}

/** Creates the cluster a launch named, holding the devices its first run was matched to. */
export async function createCluster(
  ctx: ServerContext,
  ownerId: number,
  name: string,
  needs: JobNeeds,
  nodes: readonly PlacedNode[],
): Promise<number> {
  const now = ctx.now();
  const cluster = await insertCluster(ctx.db, {
    owner_id: ownerId,
    name,
    state: ClusterState.ACTIVE,
    needs_json: JSON.stringify(needs),
    idle_minutes: DEFAULT_CLUSTER_IDLE_MINUTES,
    created_at: now,
    idle_from: now,
    ended_at: null,
    reason: null,
  });
  await setClusterDevices(
    ctx.db,
    cluster.id,
    nodes.map((n) => Number(n.deviceId)),
  );
  return cluster.id;
}
