import { RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { runTopic } from "../notify.js";
import { findRun, insertRun, updateRun } from "../store/runs.js";

/**
 * A run that lost a device and may retry (`computing.retry.limit`) starts again as a new
 * QUEUED run with one retry fewer; the lost run stays FAILED and names its successor.
 * Answers the new run's id, or null when no retry is left.
 */
export async function retryLostRun(ctx: ServerContext, runId: number, why: string): Promise<number | null> {
  const run = await findRun(ctx.db, runId);
  if (!run || run.retries_left <= 0 || run.stop_requested === 1 || run.status !== RunStatus.FAILED) return null;
  const now = ctx.now();
  const { id: _id, ...copy } = run;
  const next = await insertRun(ctx.db, {
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
  // The old run keeps no retries: a second report of the same loss must not retry twice.
  await updateRun(ctx.db, run.id, { retries_left: 0, reason: `${why}; retried as run ${next.id}` });
  ctx.hub.notify(runTopic(run.id));
  return next.id;
}
