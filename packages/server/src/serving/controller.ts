/**
 * The serving controller, run on the server's tick: keeps each live endpoint at its replica
 * target (replacing replicas that died, adding and removing them as the autoscaler decides),
 * rolls endpoints onto their newest generation (old replicas leave rotation only once enough
 * new ones are ready, and are stopped once idle), and stops the replicas of ended endpoints.
 */
import { EndpointStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { stopRun } from "../runs/stop.js";
import {
  type ReplicaRow,
  listReplicas,
  listReplicasOfEndedEndpoints,
  listReplicasOfEndedRuns,
  retireReplica,
} from "../store/endpoint-replicas.js";
import { type EndpointRow, listAllLiveEndpoints, updateEndpoint } from "../store/endpoints.js";
import { endpointTopic } from "../notify.js";
import { transition } from "../transition.js";
import { decideReplicas } from "./autoscale.js";
import { launchReplicas } from "./launch-replica.js";
import { endEndpointIfRunEnded, refreshEndpointStatus } from "./lifecycle.js";
import { inRotation } from "./replica-status.js";

const LIVE = [EndpointStatus.DEPLOYING, EndpointStatus.READY];
/** A retired replica keeps running this long at least: requests routed just before it left rotation finish. */
const DRAIN_GRACE_MS = 2_000;

/** Runs already asked to stop by this process (a stop is sent once). */
const stopping = new Set<number>();
let pass: Promise<void> = Promise.resolve();

/** One controller pass; passes of this process run one after another. */
export function reconcileServing(ctx: ServerContext): Promise<void> {
  pass = pass.catch(() => {}).then(() => reconcileOnce(ctx));
  return pass;
}

async function stopReplica(ctx: ServerContext, replica: ReplicaRow): Promise<void> {
  if (stopping.has(replica.run_id)) return;
  stopping.add(replica.run_id);
  await stopRun(ctx, replica.run_id);
}

async function reconcileOnce(ctx: ServerContext): Promise<void> {
  const now = ctx.now();
  for (const ended of await listReplicasOfEndedRuns(ctx.db)) {
    await transition(ctx, (tx) => endEndpointIfRunEnded(tx, { id: ended.run_id, status: ended.status }, now));
    stopping.delete(ended.run_id);
  }
  for (const orphan of await listReplicasOfEndedEndpoints(ctx.db, LIVE)) {
    if (await retireReplica(ctx.db, orphan.id, now)) ctx.hub.notify(endpointTopic(orphan.endpoint_id));
    await stopReplica(ctx, orphan);
  }
  for (const endpoint of await listAllLiveEndpoints(ctx.db)) await reconcileEndpoint(ctx, endpoint, now);
}

/** Fewest losses first: replicas not serving, then the least busy, then the newest. */
function retireOrder(ctx: ServerContext, replicas: ReplicaRow[]): ReplicaRow[] {
  const inflight = (r: ReplicaRow) => ctx.replicaLoad.ofReplica(r.run_id).inflight;
  return [...replicas].sort((a, b) => Number(inRotation(a)) - Number(inRotation(b)) || inflight(a) - inflight(b) || b.id - a.id);
}

async function reconcileEndpoint(ctx: ServerContext, endpoint: EndpointRow, now: number): Promise<void> {
  const scaled = decideReplicas({
    minReplicas: endpoint.min_replicas,
    maxReplicas: endpoint.max_replicas,
    targetInflight: endpoint.target_inflight,
    targetRps: endpoint.target_rps,
    desired: endpoint.desired_replicas,
    peakInflight: ctx.replicaLoad.takePeak(endpoint.id),
    requestsPerSecond: ctx.replicaLoad.takeRate(endpoint.id, performance.now()),
    // The delay counts from the first ready replica: an endpoint still starting is not idle.
    busyAt:
      endpoint.ready_at === null ? now : Math.max(Number(endpoint.busy_at ?? endpoint.created_at), Number(endpoint.ready_at)),
    scaleDownDelayMs: Number(endpoint.scale_down_delay_ms),
    now,
  });
  const desired = scaled.desired;
  // Written when the target changes, or to keep the scale-down clock while above the minimum;
  // not on every quiet pass.
  const busyAtChanged = scaled.busyAt !== Number(endpoint.busy_at) && desired > endpoint.min_replicas;
  if (desired !== endpoint.desired_replicas || busyAtChanged) {
    await updateEndpoint(ctx.db, endpoint.id, { desired_replicas: desired, busy_at: scaled.busyAt });
  }

  const replicas = await listReplicas(ctx.db, [endpoint.id]);
  const active = replicas.filter((r) => r.retired_at === null);
  const current = active.filter((r) => r.generation === endpoint.generation);
  const old = active.filter((r) => r.generation !== endpoint.generation);
  let retired = false;

  if (current.length < desired) await launchReplicas(ctx, { ...endpoint, desired_replicas: desired }, desired);
  if (current.length > desired) {
    for (const extra of retireOrder(ctx, current).slice(0, current.length - desired)) {
      retired = (await retireReplica(ctx.db, extra.id, now)) || retired;
    }
  }
  // Rolling update: capacity never drops below the target while the new generation comes up.
  const readyNew = current.filter(inRotation).length;
  if (old.length > 0 && readyNew > 0) {
    const surplus = Math.max(0, readyNew + old.length - desired);
    for (const replaced of retireOrder(ctx, old).slice(0, surplus)) {
      retired = (await retireReplica(ctx.db, replaced.id, now)) || retired;
    }
  }
  if (retired) {
    ctx.hub.notify(endpointTopic(endpoint.id));
    await refreshEndpointStatus(ctx.db, endpoint.id, now);
  }

  for (const replica of await listReplicas(ctx.db, [endpoint.id])) {
    const drained =
      replica.retired_at !== null &&
      now - Number(replica.retired_at) >= DRAIN_GRACE_MS &&
      ctx.replicaLoad.ofReplica(replica.run_id).inflight === 0;
    if (drained) await stopReplica(ctx, replica);
  }
}
