import { EdgeStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic, runTopic } from "../notify.js";
import { bumpDeviceVersion } from "../store/devices.js";
import { type RunDeviceRow, updateRunDevice } from "../store/runs.js";
import { refreshRunStatus } from "./rollup.js";

/** Ends run parts FAILED (lost process, offline device) and rolls their runs up. */
export async function failParts(ctx: ServerContext, parts: RunDeviceRow[], reason: string): Promise<void> {
  const now = ctx.now();
  for (const part of parts) {
    await updateRunDevice(ctx.db, part.run_id, part.device_id, {
      status: EdgeStatus.FAILED,
      reason,
      ended_at: now,
    });
    await refreshRunStatus(ctx.db, part.run_id, now);
    ctx.hub.notify(runTopic(part.run_id));
  }
  for (const deviceId of new Set(parts.map((p) => p.device_id))) {
    await bumpDeviceVersion(ctx.db, deviceId);
    ctx.hub.notify(deviceTopic(deviceId));
  }
}
