import { DeviceStatus, FedmlError, ResultCode } from "@fedml/core";
import { type CandidateDevice, type JobNeeds, type Placed, matchJob } from "../scheduler/matcher.js";

/** The device columns the checks read (a store row fits). */
export interface ExplicitDeviceRow {
  id: number;
  name: string;
  owner_id: number;
  shared: number;
  removed: number;
  status: string;
  last_seen_at: number | null;
}

export interface ExplicitInputs {
  callerId: number;
  deviceServer: string;
  deviceEdges: readonly string[];
  /** The named devices as stored (missing ones are simply absent). */
  devices: readonly ExplicitDeviceRow[];
  /** Free capacity of the caller's usable online devices. */
  candidates: readonly CandidateDevice[];
  needs: JobNeeds;
  isOnline: (lastSeenAt: number | null) => boolean;
}

const invalid = (message: string, httpStatus = 400) =>
  new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, message, httpStatus);

/**
 * `deviceServer` / `deviceEdges`: the user's own pick, which bypasses the matcher. Every device
 * is checked in turn (unknown, not the caller's, offline, busy) and the first problem is thrown
 * as one line with a fitting code, before anything is stored. Pure.
 */
export function checkExplicitDevices(inputs: ExplicitInputs): { server: Placed; edges: Placed[] } {
  const ids = [inputs.deviceServer, ...inputs.deviceEdges].map((id) => String(id).trim());
  if (inputs.deviceEdges.length === 0) throw invalid("device_edges is empty: a federated job needs at least one edge device");
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw invalid(`device ${id} is named twice: the server and every edge must be distinct devices`);
    seen.add(id);
  }
  const placed = ids.map((id, i) => checkOne(inputs, id, i === 0 ? "server" : "edge"));
  return { server: placed[0], edges: placed.slice(1) };
}

function checkOne(inputs: ExplicitInputs, id: string, role: "server" | "edge"): Placed {
  const row = /^\d{1,15}$/.test(id) ? inputs.devices.find((d) => String(d.id) === id) : undefined;
  const what = `${role} device ${id}`;
  if (!row || row.removed === 1) throw invalid(`${what} does not exist`, 404);
  const named = `${what} (${row.name})`;
  if (row.owner_id !== inputs.callerId && row.shared !== 1) {
    throw invalid(`${named} is not yours and not shared: bind it with your own API key`, 403);
  }
  if (row.status === DeviceStatus.OFFLINE || !inputs.isOnline(row.last_seen_at)) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_NO_RESOURCES, `${named} is offline: start its agent`, 409);
  }
  const verdict = matchJob({ ...inputs.needs, resourceId: String(row.id) }, inputs.candidates);
  switch (verdict.kind) {
    case "placed":
      return verdict;
    case "queued":
      throw new FedmlError(ResultCode.OCCUPIED_FAILED, `${named} is busy: ${verdict.reason}`, 409);
    case "blocked":
      throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_BLOCKED, `${named}: ${verdict.reason}`, 409);
    default:
      throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_NO_RESOURCES, `${named}: ${verdict.reason}`, 409);
  }
}
