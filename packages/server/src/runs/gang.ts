import { EdgeStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic } from "../notify.js";
import { bumpDeviceVersion } from "../store/devices.js";
import { listRunDevices, updateRunDeviceIf } from "../store/runs.js";
import { isLivePart } from "./rollup.js";

/**
 * A gang lives and dies together: when one node fails, the others are asked to stop. Call
 * it inside the transaction that ends the failed node.
 */
export async function stopRestOfGang(ctx: ServerContext, runId: number, failedDeviceId: number): Promise<void> {
  const now = ctx.now();
  const rest = (await listRunDevices(ctx.db, [runId]))
    .filter((p) => p.device_id !== failedDeviceId && isLivePart(p))
    .sort((a, b) => a.device_id - b.device_id);
  for (const part of rest) {
    const stopping = {
      status: EdgeStatus.STOPPING,
      stop_requested: 1,
      stop_requested_at: part.stop_requested_at ?? now,
      reason: `node on device ${failedDeviceId} failed`,
    };
    if (!(await updateRunDeviceIf(ctx.db, runId, part.device_id, [part.status], stopping))) continue;
    await bumpDeviceVersion(ctx.db, part.device_id);
    ctx.hub.notify(deviceTopic(part.device_id));
  }
}
