import { FedmlError, type JobSpec, type LaunchRequest, ResultCode } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { type LaunchDecision, refuse, verdictCodes } from "../scheduler/launch-decision.js";
import type { JobNeeds } from "../scheduler/matcher.js";
import { listDevicesByIds } from "../store/devices.js";
import { checkExplicitDevices } from "./explicit.js";
import { numEdgesOf } from "./num-edges.js";
import { pickFederatedDevices } from "./pick.js";

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
 * Where a federated run goes (inside the launch's placement transaction): server rank 0,
 * edges ranks 1..N. Picked by the matcher, it places now, queues when enough devices could
 * hold it later, or is refused. With deviceServer/deviceEdges the user's own pick is checked
 * and placed now or refused (a problem is thrown): named devices that are busy are reported,
 * not waited for.
 */
export async function decideFederated(
  ctx: ServerContext,
  ownerId: number,
  spec: JobSpec,
  request: LaunchRequest,
  needs: JobNeeds,
): Promise<LaunchDecision> {
  // Same view as every other placement: online, the owner's or shared, cluster reservations held back.
  const candidates = await ctx.placement.candidatesFor(ctx.db, ownerId);
  if (!namesFederatedDevices(request)) {
    const pick = pickFederatedDevices(needs, candidates, numEdgesOf(spec));
    if (pick.kind === "placed") return { kind: "place", nodes: pick.nodes, firstRank: 0, clusterId: null };
    if (pick.kind === "queued") return { kind: "queue", reason: pick.reason, clusterId: null };
    return refuse(verdictCodes[pick.kind], pick.reason);
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
    isOnline: ctx.onlineTest(),
  });
  // Each pick is one device (node 0 of its match), priced as the matcher priced it for the
  // requester: 0 on their own devices, the owner's price elsewhere (runs/settle.ts charges it).
  const nodes = [picked.server, ...picked.edges].map((p) => p.nodes[0]);
  return { kind: "place", nodes, firstRank: 0, clusterId: null };
}
