import { RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { runTopic, schedulerTopic } from "../notify.js";
import { removeEndpointOfRun } from "../serving/lifecycle.js";
import { updateRunIf } from "../store/runs.js";
import { transition } from "../transition.js";

/**
 * Starts a run held NOT_STARTED by a match (runs/launch.ts holdRun): it joins the queue,
 * and the queue pass places it, on the devices it matched when they are still free or
 * wherever fits by then. Answers false when the run was no longer held (started already,
 * stopped, or abandoned): someone else got there first.
 */
export function startHeldRun(ctx: ServerContext, runId: number): Promise<boolean> {
  return transition(ctx, async (tctx) => {
    const started = await updateRunIf(tctx.db, runId, [RunStatus.NOT_STARTED], {
      status: RunStatus.QUEUED,
      reason: "started: waiting for the queue pass",
    });
    if (started) {
      tctx.hub.notify(schedulerTopic);
      tctx.hub.notify(runTopic(runId));
      tctx.log.info({ event: "run.started", runId }, "held run started");
    }
    return started;
  });
}

/** Ends ABANDONED every run held longer than `maxHoldMs` whose start never came; answers how many. */
export async function abandonHeldRuns(ctx: ServerContext, maxHoldMs: number): Promise<number> {
  const now = ctx.now();
  const stale = await ctx.db
    .selectFrom("runs")
    .select("id")
    .where("status", "=", RunStatus.NOT_STARTED)
    .where("created_at", "<", now - maxHoldMs)
    .execute();
  let abandoned = 0;
  for (const { id } of stale) {
    const ended = await transition(ctx, async (tctx) => {
      const changed = await updateRunIf(tctx.db, id, [RunStatus.NOT_STARTED], {
        status: RunStatus.ABANDONED,
        reason: "ABANDONED: matched but never started",
        ended_at: now,
      });
      if (!changed) return false;
      await removeEndpointOfRun(tctx.db, id, now);
      tctx.hub.notify(runTopic(id));
      return true;
    });
    if (ended) abandoned++;
  }
  return abandoned;
}
