import {
  CLUSTER_NAME_PATTERN,
  DEFAULT_CLUSTER_IDLE_MINUTES,
  FedmlError,
  type LaunchResult,
  ResultCode,
  RunStatus,
} from "@fedml/core";
import type { ServerContext } from "../context.js";
import type { Placed } from "../scheduler/matcher.js";
import { type PreparedLaunch, launchResult, storeRun } from "../runs/new-run.js";
import {
  ClusterState,
  insertCluster,
  listLiveClusterRuns,
  listOwnerClusters,
  setClusterDevices,
  updateCluster,
} from "../store/clusters.js";
import type { UserRow } from "../store/users.js";
import { activateCluster, pickCluster } from "./lifecycle.js";

const namePattern = new RegExp(CLUSTER_NAME_PATTERN);

/**
 * A launch with `-c NAME`. An unknown name creates the cluster from the devices matched for
 * this job, or fails with 16 (nothing stored). A known one runs the job on its devices, in
 * submission order: the run waits CLUSTER_QUEUE (code 5) while an earlier one waits or the
 * devices are busy. A stopped cluster is started again first; a job it can never hold fails
 * with 15 (nothing stored).
 */
export async function launchOnCluster(
  ctx: ServerContext,
  user: UserRow,
  name: string,
  launch: PreparedLaunch,
): Promise<LaunchResult> {
  if (!namePattern.test(name)) {
    throw new FedmlError(
      ResultCode.CLUSTER_CREATION_FAILED,
      `invalid cluster name "${name}": letters, digits, _ . - (up to 64, starting with a letter or digit)`,
      400,
    );
  }
  return ctx.placement.exclusive(async (match) => {
    const existing = pickCluster(await listOwnerClusters(ctx.db, user.id, [name]), name);
    if (!existing || existing.state === ClusterState.TERMINATED) {
      const verdict = await match(user.id, launch.needs);
      if (verdict.kind !== "placed") {
        return launchResult(ResultCode.CLUSTER_CREATION_FAILED, `cannot create cluster ${name}: ${verdict.reason}`, null, null);
      }
      const now = ctx.now();
      const cluster = await insertCluster(ctx.db, {
        owner_id: user.id,
        name,
        state: ClusterState.ACTIVE,
        needs_json: JSON.stringify(launch.needs),
        idle_minutes: DEFAULT_CLUSTER_IDLE_MINUTES,
        created_at: now,
        idle_from: now,
        ended_at: null,
        reason: null,
      });
      await setClusterDevices(
        ctx.db,
        cluster.id,
        verdict.nodes.map((n) => Number(n.deviceId)),
      );
      return startOnCluster(ctx, user, launch, cluster.id, verdict);
    }

    const wasStopped = existing.state === ClusterState.STOPPED;
    if (wasStopped) {
      const started = await activateCluster(ctx, existing, match);
      if (!started.ok) {
        const why = `cluster ${name} is STOPPED and cannot start again: ${started.reason}`;
        return launchResult(ResultCode.CLUSTER_CONFIRM_FAILED, why, null, null);
      }
    }
    const waiting = (await listLiveClusterRuns(ctx.db, [existing.id])).filter((r) => r.status === RunStatus.CLUSTER_QUEUE);
    let reason = `waiting for its turn on cluster ${name} behind ${waiting.length} earlier run${waiting.length === 1 ? "" : "s"}`;
    // Even a job that waits its turn must fit the cluster some day.
    const verdict = await match(user.id, launch.needs, existing.id);
    if (verdict.kind === "no_resources" || verdict.kind === "blocked" || verdict.kind === "credit") {
      // Nothing changes on a refused launch: a cluster started for it goes back to STOPPED.
      if (wasStopped) await updateCluster(ctx.db, existing.id, { state: ClusterState.STOPPED });
      return launchResult(
        ResultCode.CLUSTER_CONFIRM_FAILED,
        `cluster ${name} cannot run this job: ${verdict.reason}`,
        null,
        null,
      );
    }
    if (waiting.length === 0) {
      if (verdict.kind === "placed") {
        return startOnCluster(ctx, user, launch, existing.id, verdict);
      }
      reason = `waiting for its turn on cluster ${name}: ${verdict.reason}`;
    }
    const { run, project, innerId } = await storeRun(ctx, user, launch, {
      status: RunStatus.CLUSTER_QUEUE,
      reason,
      clusterId: existing.id,
    });
    return launchResult(ResultCode.RESOURCE_MATCHED_STATUS_QUEUED, reason, run.id, project.id, innerId);
  });
}

/** Stores a run launched on a cluster and assigns it at once to the devices it was matched to. */
async function startOnCluster(
  ctx: ServerContext,
  user: UserRow,
  launch: PreparedLaunch,
  clusterId: number,
  placed: Placed,
): Promise<LaunchResult> {
  const { run, project, innerId } = await storeRun(ctx, user, launch, {
    status: RunStatus.CLUSTER_QUEUE,
    reason: null,
    clusterId,
  });
  await ctx.placement.assign(run, placed);
  return launchResult(ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS, null, run.id, project.id, innerId);
}
