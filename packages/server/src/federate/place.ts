import { FedmlError, type JobSpec, type LaunchRequest, ResultCode } from "@fedml/core";
import type { ServerContext } from "../context.js";
import type { JobNeeds } from "../scheduler/matcher.js";
import { listDevicesByIds } from "../store/devices.js";
import { checkExplicitDevices } from "./explicit.js";
import { numEdgesOf } from "./num-edges.js";
import { type FederatedPick, pickFederatedDevices } from "./pick.js";

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
): Promise<void> {
  // Each pick is one device (node 0 of its match), priced as the matcher priced it for the
  // requester: 0 on their own devices, the owner's price elsewhere (runs/settle.ts charges it).
  const nodes = [pick.server, ...pick.edges].map((p) => p.nodes[0]);
  await ctx.placement.assign({ id: runId }, { nodes }, 0);
}
