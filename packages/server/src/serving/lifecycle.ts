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
import { type EndpointRow, endEndpointOfRun, findEndpointOfRun, insertEndpoint, updateEndpointIf } from "../store/endpoints.js";
import type { Stateful } from "../transition.js";
import type { RunRow } from "../store/runs.js";
import { findRun, findRunDevice } from "../store/runs.js";
import type { Database } from "../store/schema.js";

export function isServingJob(spec: Pick<JobSpec, "jobType">): boolean {
  return spec.jobType === "serve" || spec.jobType === "deploy";
}

/** A serve / deploy launch makes its endpoint with the run: DEPLOYING until the job answers. */
export async function createEndpoint(db: Kysely<Database>, run: RunRow, spec: JobSpec, now: number): Promise<EndpointRow> {
  const args = spec.servingArgs;
  return insertEndpoint(db, {
    owner_id: run.owner_id,
    run_id: run.id,
    name: args?.endpointName ?? args?.modelName ?? run.name,
    status: EndpointStatus.DEPLOYING,
    model_name: args?.modelName ?? null,
    model_version: args?.modelVersion ?? null,
    device_id: null,
    address: null,
    port: null,
    created_at: now,
    ready_at: null,
    ended_at: null,
  });
}

/** The endpoint's status once its run has ended in `runStatus`. */
export function endedEndpointStatus(runStatus: string): string {
  return runStatus === RunStatus.FAILED ? EndpointStatus.FAILED : EndpointStatus.REMOVED;
}

/** Called whenever a run may have ended: its endpoint stops being reachable. */
export async function endEndpointIfRunEnded(
  tx: Pick<Stateful, "db" | "log">,
  run: Pick<RunRow, "id" | "status">,
  now: number,
): Promise<void> {
  if (!isTerminalRunStatus(run.status)) return;
  const status = endedEndpointStatus(run.status);
  if ((await endEndpointOfRun(tx.db, run.id, status, now)) && status === EndpointStatus.FAILED) {
    tx.log.warn({ event: "endpoint.failed", runId: run.id }, "endpoint failed with its run");
  }
}

/** The agent's word on the job's serving port: READY once the job answered the probe. */
export async function applyServingReport(
  ctx: ServerContext,
  runId: number,
  deviceId: number,
  report: ServingReport,
): Promise<void> {
  const part = await findRunDevice(ctx.db, runId, deviceId);
  const endpoint = await findEndpointOfRun(ctx.db, runId);
  if (!part || !endpoint) {
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} has no endpoint on device ${deviceId}`, 404);
  }
  const run = await findRun(ctx.db, runId);
  if (!run || isTerminalRunStatus(run.status) || run.stop_requested === 1) return;
  if (endpoint.status !== EndpointStatus.DEPLOYING && endpoint.status !== EndpointStatus.READY) return;
  const now = ctx.now();
  // The port is kept for display only: requests reach it through the agent's tunnel, and the
  // device's reported address is never dialed. One conditional write: an endpoint that ended
  // meanwhile (run stopped) stays ended.
  const changed = await updateEndpointIf(ctx.db, endpoint.id, [EndpointStatus.DEPLOYING, EndpointStatus.READY], {
    device_id: deviceId,
    address: null,
    port: report.port,
    status: report.ready ? EndpointStatus.READY : endpoint.status,
    ready_at: report.ready ? (endpoint.ready_at ?? now) : endpoint.ready_at,
  });
  if (changed && report.ready && endpoint.status !== EndpointStatus.READY) {
    ctx.log.info({ event: "endpoint.ready", endpointId: endpoint.id, runId, deviceId, port: report.port }, "endpoint ready");
  }
}

/** Stopping the run removes the endpoint at once: the proxy stops forwarding before the job is gone. */
export async function removeEndpointOfRun(db: Kysely<Database>, runId: number, now: number): Promise<void> {
  await endEndpointOfRun(db, runId, EndpointStatus.REMOVED, now);
}
