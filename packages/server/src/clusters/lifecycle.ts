/**
 * A cluster's life: active (devices reserved) <-> stopped (devices let go, kept on record),
 * and terminated (killed, for good). Every function here runs inside a placement transaction
 * (the lock held, see scheduler/placement.ts), so that no run is placed while devices change
 * hands, and a change that fails halfway leaves the cluster as it was.
 */
import type { ServerContext } from "../context.js";
import { stopRunLocked } from "../runs/stop.js";
import { creditStanding } from "../billing/standing.js";
import type { JobNeeds } from "../scheduler/matcher.js";
import type { Match } from "../scheduler/placement.js";
import {
  type ClusterRow,
  ClusterState,
  listClusterDevices,
  listLiveClusterRuns,
  listReservations,
  setClusterDevices,
  updateClusterIf,
} from "../store/clusters.js";
import { decodeJobNeeds } from "../store/json-columns.js";

/** The owner's live (not killed) cluster of that name, else the latest killed one. */
export function pickCluster(rows: readonly ClusterRow[], name: string): ClusterRow | undefined {
  const named = rows.filter((r) => r.name === name).sort((a, b) => b.id - a.id);
  return named.find((r) => r.state !== ClusterState.TERMINATED) ?? named[0];
}

export function killedMessage(name: string): string {
  return `cluster ${name} was killed (TERMINATED) and cannot be started; a launch on that name creates a new cluster`;
}

/**
 * Takes devices for a stopped cluster: the same ones when none is held by another cluster and
 * they have room for the job that created it, else any matching set. Answers why not when
 * neither works (the cluster then stays stopped).
 */
export async function activateCluster(
  ctx: ServerContext,
  cluster: ClusterRow,
  match: Match,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  // The credit standing stored with the needs is the creating launch's: read it afresh.
  const needs: JobNeeds = {
    ...decodeJobNeeds(cluster.needs_json),
    requesterId: String(cluster.owner_id),
    credit: await creditStanding(ctx.db, cluster.owner_id),
  };
  const now = ctx.now();
  const active = { state: ClusterState.ACTIVE, idle_from: now, ended_at: null, reason: null };
  const own = (await listClusterDevices(ctx.db, [cluster.id])).map((d) => d.device_id);
  const heldByOthers = new Set((await listReservations(ctx.db)).map((r) => r.device_id));
  if (own.length > 0 && own.every((d) => !heldByOthers.has(d))) {
    // Tentatively active, so that the matcher sees its devices as the cluster's own.
    if (!(await updateClusterIf(ctx.db, cluster.id, ClusterState.STOPPED, active))) {
      return { ok: false, reason: "it changed meanwhile: try again" };
    }
    const same = await match(cluster.owner_id, needs, cluster.id);
    if (same.kind === "placed") return { ok: true };
    await updateClusterIf(ctx.db, cluster.id, ClusterState.ACTIVE, { state: ClusterState.STOPPED });
  }
  const elsewhere = await match(cluster.owner_id, needs, null);
  if (elsewhere.kind !== "placed") return { ok: false, reason: elsewhere.reason };
  if (!(await updateClusterIf(ctx.db, cluster.id, ClusterState.STOPPED, active))) {
    return { ok: false, reason: "it changed meanwhile: try again" };
  }
  await setClusterDevices(
    ctx.db,
    cluster.id,
    elsewhere.nodes.map((n) => Number(n.deviceId)),
  );
  return { ok: true };
}

/**
 * Ends the cluster's runs (running ones are stopped, waiting ones canceled) and lets its
 * devices go. False when the cluster was no longer in the state read (someone else got there
 * first); nothing is changed then.
 */
export async function deactivateCluster(
  ctx: ServerContext,
  cluster: ClusterRow,
  state: typeof ClusterState.STOPPED | typeof ClusterState.TERMINATED,
  reason: string,
): Promise<boolean> {
  const canceled = `canceled: cluster ${cluster.name} was ${state === ClusterState.STOPPED ? "stopped" : "killed"}`;
  // The state first: it is the conditional write that claims the change.
  if (!(await updateClusterIf(ctx.db, cluster.id, cluster.state, { state, reason, ended_at: ctx.now() }))) return false;
  for (const run of await listLiveClusterRuns(ctx.db, [cluster.id])) {
    await stopRunLocked(ctx, run.id, canceled);
  }
  return true;
}
