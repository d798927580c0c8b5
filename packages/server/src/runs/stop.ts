import { EdgeStatus, RunStatus, type StopRunResponse, isTerminalRunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic, runTopic } from "../notify.js";
import { bumpDeviceVersion } from "../store/devices.js";
import { findRun, listRunDevices, updateRun, updateRunDevice } from "../store/runs.js";
import { isLivePart } from "./rollup.js";
import { removeEndpointOfRun } from "../serving/lifecycle.js";

/**
 * A queued run ends KILLED at once; an active one goes STOPPING and its agents are woken to
 * stop the process and report KILLED.
 */
export async function stopRun(ctx: ServerContext, runId: number): Promise<StopRunResponse> {
  // Under the placement lock: a queued run must not be placed while it is being canceled.
  return ctx.placement.exclusive(() => stopRunLocked(ctx, runId));
}

/** stopRun for callers already holding the placement lock (cluster stop and kill). */
export async function stopRunLocked(
  ctx: ServerContext,
  runId: number,
  queuedReason = "QUEUE_CANCELED: canceled while queued",
): Promise<StopRunResponse> {
  const run = await findRun(ctx.db, runId);
  if (!run) throw new Error(`run ${runId} vanished`);
  if (isTerminalRunStatus(run.status)) {
    return { stopped: run.status === RunStatus.KILLED, status: run.status };
  }
  const now = ctx.now();
  await removeEndpointOfRun(ctx.db, runId, now);
  const parts = await listRunDevices(ctx.db, [runId]);
  if (parts.length === 0) {
    await updateRun(ctx.db, runId, {
      status: RunStatus.KILLED,
      reason: queuedReason,
      ended_at: now,
      stop_requested: 1,
    });
    ctx.hub.notify(runTopic(runId));
    return { stopped: true, status: RunStatus.KILLED };
  }
  await updateRun(ctx.db, runId, { status: RunStatus.STOPPING, stop_requested: 1 });
  for (const part of parts.filter(isLivePart)) {
    await updateRunDevice(ctx.db, runId, part.device_id, {
      status: EdgeStatus.STOPPING,
      stop_requested: 1,
      stop_requested_at: part.stop_requested_at ?? now,
    });
    await bumpDeviceVersion(ctx.db, part.device_id);
    ctx.hub.notify(deviceTopic(part.device_id));
  }
  ctx.hub.notify(runTopic(runId));
  return { stopped: true, status: RunStatus.STOPPING };
}
