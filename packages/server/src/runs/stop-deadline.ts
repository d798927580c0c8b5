import { EdgeStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { deviceTopic, runTopic } from "../notify.js";
import { bumpDeviceVersion } from "../store/devices.js";
import { endPartIf, listUnacknowledgedStops, lockRun } from "../store/runs.js";
import { transition } from "../transition.js";
import { refreshRunStatus } from "./rollup.js";
import { settlePart } from "./settle.js";

/**
 * Parts whose agent never confirmed a stop within stopAckDeadlineMs end KILLED by the
 * server's word, so a misbehaving provider cannot hold a run in STOPPING (its billing already
 * ended at the stop request). Judged only over a span the server itself was live for.
 */
export async function endUnacknowledgedStops(ctx: ServerContext): Promise<number> {
  const before = ctx.liveness.silentBefore(ctx.options.stopAckDeadlineMs);
  if (before === null) return 0;
  const overdue = await listUnacknowledgedStops(ctx.db, before);
  const now = ctx.now();
  const seconds = Math.round(ctx.options.stopAckDeadlineMs / 1000);
  let ended = 0;
  for (const part of overdue) {
    const reason = `stopped by the server: the agent did not confirm the stop within ${seconds} s`;
    // One transaction: the part, its charge and the run's roll-up land together.
    const changed = await transition(ctx, async (tctx) => {
      await lockRun(tctx.db, part.run_id);
      const killed = { status: EdgeStatus.KILLED, reason, ended_at: now };
      if (!(await endPartIf(tctx.db, part.run_id, part.device_id, EdgeStatus.STOPPING, killed))) return false;
      await settlePart(tctx, part.run_id, part.device_id);
      await refreshRunStatus(tctx, part.run_id, now);
      await bumpDeviceVersion(tctx.db, part.device_id);
      tctx.hub.notify(deviceTopic(part.device_id));
      tctx.hub.notify(runTopic(part.run_id));
      return true;
    });
    if (changed) ended++;
  }
  if (ended > 0) ctx.placement.wake(ctx);
  return ended;
}
