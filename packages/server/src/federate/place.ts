import { EdgeStatus, FedmlError, type JobSpec, type LaunchRequest, ResultCode, RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic, runTopic } from "../notify.js";
import type { JobNeeds } from "../scheduler/matcher.js";
import { bumpDeviceVersion, listDevicesByIds } from "../store/devices.js";
import { insertRunDevice, updateRun } from "../store/runs.js";
import { checkExplicitDevices } from "./explicit.js";
import { numEdgesOf } from "./num-edges.js";
import { type FederatedPick, type Placed, pickFederatedDevices } from "./pick.js";

/**
 * deviceServer / deviceEdges as given, blanks dropped (request validation may coerce a null
 * array into [null] or [""]).
 */
export function federatedDeviceArgs(request: LaunchRequest): { server: string | null; edges: string[] } {
  const text = (v: unknown) => (v === null || v === undefined ? "" : String(v).trim());
  return {
    server: text(request.deviceServer) || null,
    edges: (request.deviceEdges ?? []).map(text).filter((id) => id !== ""),
  };
}

/** Whether the launch names devices for a federated job (either argument counts). */
export function namesFederatedDevices(request: LaunchRequest): boolean {
  const { server, edges } = federatedDeviceArgs(request);
  return server !== null || edges.length > 0;
}

/**
 * Where a federated run goes; must run under the placement lock. With deviceServer/deviceEdges
 * the user's devices are checked (a problem is thrown); otherwise the matcher picks.
 */
export async function placeFederated(
  ctx: ServerContext,
  ownerId: number,
  spec: JobSpec,
  request: LaunchRequest,
  needs: JobNeeds,
): Promise<FederatedPick> {
  // Same view as every other placement: online, the owner's or shared, cluster reservations held back.
  const candidates = await ctx.placement.candidatesFor(ownerId);
  if (!namesFederatedDevices(request)) {
    return pickFederatedDevices(needs, candidates, numEdgesOf(spec));
  }
  const { server, edges } = federatedDeviceArgs(request);
  if (server === null) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "device_edges was given without device_server", 400);
  }
  const numericIds = [server, ...edges].filter((id) => /^\d{1,15}$/.test(id)).map(Number);
  const devices = await listDevicesByIds(ctx.db, numericIds);
  const picked = checkExplicitDevices({
    callerId: ownerId,
    deviceServer: server,
    deviceEdges: edges,
    devices,
    candidates,
    needs,
    isOnline: ctx.isOnline,
  });
  return { kind: "placed", ...picked };
}

/** Stores the run's parts (server rank 0, edges ranks 1..N) and wakes their agents. */
export async function assignFederated(
  ctx: ServerContext,
  runId: number,
  pick: Extract<FederatedPick, { kind: "placed" }>,
  priceOf: (deviceId: string) => Promise<number>,
): Promise<void> {
  const nodes: Placed[] = [pick.server, ...pick.edges];
  for (const [index, node] of nodes.entries()) {
    await insertRunDevice(ctx.db, {
      run_id: runId,
      device_id: Number(node.deviceId),
      rank: index,
      node_index: index,
      status: EdgeStatus.QUEUED,
      gpu_indices_json: JSON.stringify(node.gpuIndices),
      exit_code: null,
      reason: null,
      started_at: null,
      ended_at: null,
      log_count: 0,
      price_per_gpu_hour: await priceOf(node.deviceId),
      stop_requested: 0,
    });
  }
  await updateRun(ctx.db, runId, { status: RunStatus.STARTING, reason: null });
  for (const node of nodes) {
    await bumpDeviceVersion(ctx.db, Number(node.deviceId));
    ctx.hub.notify(deviceTopic(Number(node.deviceId)));
  }
  ctx.hub.notify(runTopic(runId));
}
