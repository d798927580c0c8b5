import {
  EndpointStatus,
  FedmlError,
  type JobSpec,
  ResultCode,
  RunStatus,
  type ServingReport,
  isTerminalRunStatus,
} from "@fedml/core";
import type { Kysely } from "kysely";
import type { ServerContext } from "../context.js";
import { endpointTopic } from "../notify.js";
import { type Stateful, transition } from "../transition.js";
import { endReplicaOfRun, findReplicaOfRun, insertReplica, listReplicas, updateLiveReplica } from "../store/endpoint-replicas.js";
import {
  type EndpointRow,
  endEndpoint,
  findEndpoint,
  findLiveEndpointByName,
  insertEndpoint,
  isLiveEndpoint,
  updateEndpoint,
  updateEndpointIf,
} from "../store/endpoints.js";
import type { RunRow } from "../store/runs.js";
import { findRun, findRunDevice } from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { inRotation } from "./replica-status.js";
import { endpointSettings, initialReplicas } from "./settings.js";

export function isServingJob(spec: { jobType: string }): boolean {
  return spec.jobType === "serve" || spec.jobType === "deploy";
}

/** The owner's live endpoint that a launch names (endpoint_id, else the endpoint name), if any. */
async function endpointToUpdate(
  db: Kysely<Database>,
  ownerId: number,
  spec: JobSpec,
  name: string,
): Promise<EndpointRow | undefined> {
  const byId = spec.servingArgs?.endpointId;
  if (byId && /^\d{1,15}$/.test(byId.trim())) {
    const endpoint = await findEndpoint(db, Number(byId.trim()));
    if (endpoint && endpoint.owner_id === ownerId && isLiveEndpoint(endpoint)) return endpoint;
  }
  return findLiveEndpointByName(db, ownerId, name);
}

/**
 * A serve / deploy launch: its run is the first replica of a new endpoint (DEPLOYING until a
 * replica answers), or, when the launch names a live endpoint of the owner (endpoint_id or the
 * same endpoint name), the first replica of that endpoint's next generation: a rolling update
 * that keeps the endpoint's id and URL (the serving controller drains the old replicas once
 * new ones are ready).
 */
export async function createEndpoint(db: Kysely<Database>, run: RunRow, spec: JobSpec, now: number): Promise<EndpointRow> {
  const args = spec.servingArgs;
  const name = args?.endpointName ?? args?.modelName ?? run.name;
  const settings = endpointSettings(args);
  const columns = {
    min_replicas: settings.minReplicas,
    max_replicas: settings.maxReplicas,
    desired_replicas: initialReplicas(settings),
    target_inflight: settings.targetInflight,
    target_rps: settings.targetRps,
    scale_down_delay_ms: settings.scaleDownDelayMs,
    probe_path: settings.probePath,
    probe_interval_ms: settings.probeIntervalMs,
    busy_at: now,
  };
  const existing = await endpointToUpdate(db, run.owner_id, spec, name);
  if (existing) {
    const generation = existing.generation + 1;
    await updateEndpoint(db, existing.id, {
      ...columns,
      run_id: run.id,
      generation,
      model_name: args?.modelName ?? null,
      model_version: args?.modelVersion ?? null,
      // The old generation's replicas keep serving while the new one comes up.
      desired_replicas: Math.max(initialReplicas(settings), Math.min(existing.desired_replicas, settings.maxReplicas)),
    });
    await insertReplica(db, { endpoint_id: existing.id, run_id: run.id, generation, ready: 0, created_at: now });
    return { ...existing, run_id: run.id, generation };
  }
  const endpoint = await insertEndpoint(db, {
    owner_id: run.owner_id,
    run_id: run.id,
    name,
    status: EndpointStatus.DEPLOYING,
    model_name: args?.modelName ?? null,
    model_version: args?.modelVersion ?? null,
    device_id: null,
    address: null,
    port: null,
    created_at: now,
    ready_at: null,
    ended_at: null,
    ...columns,
  });
  await insertReplica(db, { endpoint_id: endpoint.id, run_id: run.id, generation: 1, ready: 0, created_at: now });
  return endpoint;
}

/** The endpoint's status once its run has ended in `runStatus`. */
export function endedEndpointStatus(runStatus: string): string {
  return runStatus === RunStatus.FAILED ? EndpointStatus.FAILED : EndpointStatus.REMOVED;
}

/** READY while a replica is in rotation, else DEPLOYING (a live endpoint only). */
export async function refreshEndpointStatus(db: Kysely<Database>, endpointId: number, now: number): Promise<void> {
  const endpoint = await findEndpoint(db, endpointId);
  if (!endpoint || !isLiveEndpoint(endpoint)) return;
  const ready = (await listReplicas(db, [endpointId])).some(inRotation);
  const status = ready ? EndpointStatus.READY : EndpointStatus.DEPLOYING;
  if (status === endpoint.status) return;
  await updateEndpointIf(db, endpointId, [endpoint.status], {
    status,
    ready_at: ready ? (endpoint.ready_at ?? now) : endpoint.ready_at,
  });
}

/**
 * Called whenever a run may have ended: its replica stops serving. The endpoint ends with it
 * only when that was its last replica and none ever answered (a deploy that does not work);
 * otherwise the serving controller replaces the replica.
 */
export async function endEndpointIfRunEnded(
  tx: Pick<Stateful, "db" | "log" | "hub">,
  run: Pick<RunRow, "id" | "status">,
  now: number,
): Promise<void> {
  if (!isTerminalRunStatus(run.status)) return;
  const { db } = tx;
  const replica = await findReplicaOfRun(db, run.id);
  if (!replica || !(await endReplicaOfRun(db, run.id, now))) return;
  tx.hub.notify(endpointTopic(replica.endpoint_id));
  if (replica.retired_at !== null) return;
  const others = await listReplicas(db, [replica.endpoint_id]);
  const everReady = replica.ready_at !== null || others.some((r) => r.ready_at !== null);
  if (others.length === 0 && !everReady) {
    const status = endedEndpointStatus(run.status);
    if ((await endEndpoint(db, replica.endpoint_id, status, now)) && status === EndpointStatus.FAILED) {
      tx.log.warn({ event: "endpoint.failed", endpointId: replica.endpoint_id, runId: run.id }, "endpoint failed with its run");
    }
    return;
  }
  tx.log.info({ event: "endpoint.replica_ended", endpointId: replica.endpoint_id, runId: run.id }, "endpoint replica ended");
  await refreshEndpointStatus(db, replica.endpoint_id, now);
}

/** The agent's word on a replica's serving port and readiness (its probe answering or not). */
export async function applyServingReport(
  ctx: ServerContext,
  runId: number,
  deviceId: number,
  report: ServingReport,
): Promise<void> {
  const part = await findRunDevice(ctx.db, runId, deviceId);
  const replica = await findReplicaOfRun(ctx.db, runId);
  if (!part || !replica) {
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} has no endpoint on device ${deviceId}`, 404);
  }
  const run = await findRun(ctx.db, runId);
  if (!run || isTerminalRunStatus(run.status) || run.stop_requested === 1) return;
  const now = ctx.now();
  // The port is kept for display only: requests reach it through the agent's tunnel, and the
  // device's reported address is never dialed. The replica and its endpoint change together.
  const ready = report.ready && replica.retired_at === null;
  await transition(ctx, async (tx) => {
    const changed = await updateLiveReplica(tx.db, replica.id, {
      device_id: deviceId,
      port: report.port,
      ready: ready ? 1 : 0,
      ready_at: ready ? (replica.ready_at ?? now) : replica.ready_at,
    });
    if (!changed) return;
    if (ready !== (replica.ready === 1)) tx.hub.notify(endpointTopic(replica.endpoint_id));
    await updateEndpoint(tx.db, replica.endpoint_id, { device_id: deviceId, port: report.port });
    await refreshEndpointStatus(tx.db, replica.endpoint_id, now);
    if (ready !== (replica.ready === 1)) {
      tx.log.info(
        {
          event: ready ? "endpoint.replica_ready" : "endpoint.replica_unhealthy",
          endpointId: replica.endpoint_id,
          runId,
          deviceId,
        },
        ready ? "endpoint replica ready" : "endpoint replica failed its readiness probe",
      );
    }
  });
}

/**
 * Stopping a replica's run (`fedml run stop`, `fedml endpoint delete`) removes its endpoint at
 * once: the proxy stops forwarding before the jobs are gone, and the serving controller stops
 * the other replicas. A replica the controller retired is stopped alone.
 */
export async function removeEndpointOfRun(db: Kysely<Database>, runId: number, now: number): Promise<void> {
  const replica = await findReplicaOfRun(db, runId);
  if (!replica || replica.retired_at !== null) return;
  await endEndpoint(db, replica.endpoint_id, EndpointStatus.REMOVED, now);
}
