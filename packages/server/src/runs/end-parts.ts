import { EdgeStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic, runTopic } from "../notify.js";
import { bumpDeviceVersion } from "../store/devices.js";
import { type RunDeviceRow, liveEdgeStatuses, lockRun, updateRunDeviceIf } from "../store/runs.js";
import { transition } from "../transition.js";
import { stopRestOfGang } from "./gang.js";
import { retryLostRun } from "./retry.js";
import { refreshRunStatus } from "./rollup.js";
import { settlePart } from "./settle.js";

/**
 * Ends run parts FAILED (lost process, offline or removed device), stops the rest of each
 * gang, charges what ran, rolls the runs up, and retries those whose YAML asks for it: one
 * transaction per part, or all in the caller's when called inside one. A part that ended
 * meanwhile is left as it ended.
 */
export async function failParts(ctx: ServerContext, parts: RunDeviceRow[], reason: string): Promise<void> {
  for (const part of parts) {
    await transition(ctx, async (tctx) => {
      const { db } = tctx;
      const now = tctx.now();
      await lockRun(db, part.run_id);
      const failed = { status: EdgeStatus.FAILED, reason, ended_at: now };
      if (!(await updateRunDeviceIf(db, part.run_id, part.device_id, liveEdgeStatuses, failed))) return;
      await settlePart(tctx, part.run_id, part.device_id);
      await stopRestOfGang(tctx, part.run_id, part.device_id);
      await refreshRunStatus(tctx, part.run_id, now);
      await retryLostRun(tctx, part.run_id, reason);
      await bumpDeviceVersion(db, part.device_id);
      tctx.hub.notify(runTopic(part.run_id));
      tctx.hub.notify(deviceTopic(part.device_id));
      tctx.log.warn({ event: "run.part_failed", runId: part.run_id, deviceId: part.device_id, reason }, "run part failed");
    });
  }
  if (parts.length > 0) ctx.placement.wake(ctx);
}
