import { EdgeStatus, RunStatus, type StopRunResponse, isTerminalRunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic, runTopic } from "../notify.js";
import { removeEndpointOfRun } from "../serving/lifecycle.js";
import { bumpDeviceVersion } from "../store/devices.js";
import { findRun, listRunDevices, lockRun, updateRunDeviceIf, updateRunIf } from "../store/runs.js";
import { transition } from "../transition.js";
import { isLivePart } from "./rollup.js";

/**
 * A queued run ends KILLED at once; an active one goes STOPPING and its agents are woken to
 * stop the process and report KILLED. One transaction: the run, its endpoint and its parts
 * change together or not at all.
 */
export async function stopRun(ctx: ServerContext, runId: number): Promise<StopRunResponse> {
  return transition(ctx, (tctx) => stopRunLocked(tctx, runId));
}

/**
 * stopRun inside the caller's transaction (cluster stop and kill). The run's row is locked
 * first, so a queue pass cannot place it meanwhile: its conditional claim of the run
 * (QUEUED -> STARTING) then finds it KILLED and leaves it.
 */
export async function stopRunLocked(
  ctx: ServerContext,
  runId: number,
  queuedReason = "QUEUE_CANCELED: canceled while queued",
  /** Why the server stops an active run (null: the user asked); kept over the agent's words. */
  stopReason: string | null = null,
): Promise<StopRunResponse> {
  return transition(ctx, async (tctx) => {
    const { db } = tctx;
    await lockRun(db, runId);
    const run = await findRun(db, runId);
    if (!run) throw new Error(`run ${runId} vanished`);
    if (isTerminalRunStatus(run.status)) {
      return { stopped: run.status === RunStatus.KILLED, status: run.status };
    }
    const now = tctx.now();
    const parts = await listRunDevices(db, [runId]);
    const queued = parts.length === 0;
    const status = queued ? RunStatus.KILLED : RunStatus.STOPPING;
    const changes = queued ? { status, reason: queuedReason, ended_at: now, stop_requested: 1 } : { status, stop_requested: 1 };
    // Someone else got there first (the run changed since it was read): it is theirs.
    if (!(await updateRunIf(db, runId, [run.status], changes))) {
      const current = await findRun(db, runId);
      return { stopped: false, status: current?.status ?? run.status };
    }
    await removeEndpointOfRun(db, runId, now);
    for (const part of parts.filter(isLivePart).sort((a, b) => a.device_id - b.device_id)) {
      const stopping = {
        status: EdgeStatus.STOPPING,
        stop_requested: 1,
        stop_requested_at: part.stop_requested_at ?? now,
        ...(stopReason === null ? {} : { reason: stopReason }),
      };
      if (!(await updateRunDeviceIf(db, runId, part.device_id, [part.status], stopping))) continue;
      await bumpDeviceVersion(db, part.device_id);
      tctx.hub.notify(deviceTopic(part.device_id));
    }
    tctx.hub.notify(runTopic(runId));
    tctx.log.info({ event: "run.stopped", runId, status, reason: queued ? queuedReason : "stop requested" }, "run stopped");
    return { stopped: true, status };
  });
}
