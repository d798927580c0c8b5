import { EdgeStatus, type HelloRequest, type HelloResponse } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { failParts } from "../runs/end-parts.js";
import { type DeviceIdentity, updateDeviceFacts } from "../store/devices.js";
import { listLiveRunDevices } from "../store/runs.js";
import { checkFacts } from "./reported-values.js";

// Parts the agent had taken: it must hold a process for each of them.
const TAKEN = new Set<string>([EdgeStatus.INITIALIZING, EdgeStatus.RUNNING, EdgeStatus.TRAINING, EdgeStatus.STOPPING]);

/**
 * An agent (re)starts: refresh its facts, and fail every run it had taken but no longer
 * holds a process for, instead of leaving them RUNNING forever.
 */
export async function helloDevice(ctx: ServerContext, device: DeviceIdentity, request: HelloRequest): Promise<HelloResponse> {
  await updateDeviceFacts(ctx.db, device.id, checkFacts(request.facts), ctx.now());
  const active = new Set(request.activeRunIds.map(String));
  const lost = (await listLiveRunDevices(ctx.db, [device.id])).filter(
    (p) => TAKEN.has(p.status) && !active.has(String(p.run_id)),
  );
  if (lost.length > 0) {
    await failParts(ctx, lost, `the agent on ${request.facts.name || device.name} restarted and lost the run's process`);
  }
  ctx.placement.wake(ctx);
  return {
    deviceId: String(device.id),
    offlineAfterMs: ctx.options.offlineAfterMs,
    leaseMs: ctx.options.leaseMs,
    leaseKillGraceMs: ctx.options.leaseKillGraceMs,
  };
}
