import { RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { runTopic } from "../notify.js";
import { findRun, insertRun, updateRun } from "../store/runs.js";
import { transition } from "../transition.js";

/**
 * A run that lost a device and may retry (`computing.retry.limit`) starts again as a new
 * QUEUED run with one retry fewer; the lost run stays FAILED and names its successor.
 * Answers the new run's id, or null when no retry is left. One transaction, whose first
 * write claims the retry: of two reports of the same loss only one retries.
 */
export async function retryLostRun(ctx: ServerContext, runId: number, why: string): Promise<number | null> {
  return transition(ctx, async (tctx) => {
    const { db } = tctx;
    const run = await findRun(db, runId);
    if (!run || run.retries_left <= 0 || run.stop_requested === 1 || run.status !== RunStatus.FAILED) return null;
    const claimed = await db
      .updateTable("runs")
      .set({ retries_left: 0 })
      .where("id", "=", run.id)
      .where("status", "=", RunStatus.FAILED)
      .where("retries_left", ">", 0)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return null;
    const now = tctx.now();
    const { id: _id, ...copy } = run;
    const next = await insertRun(db, {
      ...copy,
      status: RunStatus.QUEUED,
      reason: `retry of run ${run.id} (${why})`,
      exit_code: null,
      created_at: now,
      started_at: null,
      ended_at: null,
      stop_requested: 0,
      retries_left: run.retries_left - 1,
      retry_of: run.id,
    });
    await updateRun(db, run.id, { reason: `${why}; retried as run ${next.id}` });
    tctx.hub.notify(runTopic(run.id));
    tctx.log.info({ event: "run.retried", runId: run.id, retryRunId: next.id, reason: why }, "run retried");
    tctx.placement.wake(tctx);
    return next.id;
  });
}
