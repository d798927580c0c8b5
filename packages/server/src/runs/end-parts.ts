import { EdgeStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic, runTopic } from "../notify.js";
import { bumpDeviceVersion } from "../store/devices.js";
import { type RunDeviceRow, updateRunDevice } from "../store/runs.js";
import { stopRestOfGang } from "./gang.js";
import { retryLostRun } from "./retry.js";
import { refreshRunStatus } from "./rollup.js";
import { settlePart } from "./settle.js";

/**
 * Ends run parts FAILED (lost process, offline or removed device), stops the rest of each
 * gang, charges what ran, rolls the runs up, and retries those whose YAML asks for it.
 */
export async function failParts(ctx: ServerContext, parts: RunDeviceRow[], reason: string): Promise<void> {
  const now = ctx.now();
  for (const part of parts) {
    await updateRunDevice(ctx.db, part.run_id, part.device_id, {
      status: EdgeStatus.FAILED,
      reason,
      ended_at: now,
    });
    await settlePart(ctx, part.run_id, part.device_id);
    await stopRestOfGang(ctx, part.run_id, part.device_id);
    await refreshRunStatus(ctx.db, part.run_id, now);
    await retryLostRun(ctx, part.run_id, reason);
    ctx.hub.notify(runTopic(part.run_id));
  }
  for (const deviceId of new Set(parts.map((p) => p.device_id))) {
    await bumpDeviceVersion(ctx.db, deviceId);
    ctx.hub.notify(deviceTopic(deviceId));
  }
}
