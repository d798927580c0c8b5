import { EdgeStatus, RunStatus, TERMINAL_EDGE_STATUSES, isTerminalRunStatus, rollUpRunStatus } from "@fedml/core";
import { endEndpointIfRunEnded, isServingJob } from "../serving/lifecycle.js";
import { type RunDeviceRow, type RunRow, findRun, listPartsOfRun, updateRunIf } from "../store/runs.js";
import type { Stateful } from "../transition.js";

/** The run's columns implied by its parts. Pure. */
export function rolledUpRun(run: RunRow, parts: RunDeviceRow[], now: number): Partial<RunRow> {
  if (parts.length === 0) return {};
  let status: string = rollUpRunStatus(parts.map((p) => p.status));
  if (run.stop_requested === 1 && !isTerminalRunStatus(status)) status = RunStatus.STOPPING;
  const changes: Partial<RunRow> = { status };
  if (run.started_at === null && (status === RunStatus.RUNNING || parts.some((p) => p.started_at !== null))) {
    const starts = parts.map((p) => p.started_at).filter((t): t is number => t !== null);
    changes.started_at = starts.length > 0 ? Math.min(...starts) : now;
  }
  if (isTerminalRunStatus(status) && run.ended_at === null) {
    const ends = parts.map((p) => p.ended_at).filter((t): t is number => t !== null);
    changes.ended_at = ends.length > 0 ? Math.max(...ends) : now;
    const failed = parts.find((p) => p.status === EdgeStatus.FAILED || p.status === EdgeStatus.EXCEPTION);
    const decisive = failed ?? parts.find((p) => p.exit_code !== null && p.exit_code !== 0) ?? parts[0];
    changes.exit_code = decisive?.exit_code ?? null;
    changes.reason = failed?.reason ?? decisive?.reason ?? null;
  } else if (!isTerminalRunStatus(status)) {
    // A part waiting in a batch system's queue says why (Slurm's reason); else no reason.
    changes.reason = parts.find((p) => p.status === EdgeStatus.QUEUED && p.reason)?.reason ?? null;
  }
  return changes;
}

/**
 * Re-computes and stores a run's status from its parts; answers the run as stored. Call it
 * in the transaction that changed the parts, with the run locked (lockRun), so that the
 * roll-up sees every part's latest word.
 */
export async function refreshRunStatus(
  tx: Pick<Stateful, "db" | "log" | "hub">,
  runId: number,
  now: number,
  /** The run (and its parts) as this transaction has it already, read under the lock: not read again. */
  known?: { run: RunRow; parts?: RunDeviceRow[] },
): Promise<RunRow | undefined> {
  const { db } = tx;
  const run = known?.run ?? (await findRun(db, runId));
  if (!run || isTerminalRunStatus(run.status)) return run;
  const parts = known?.parts ?? (await listPartsOfRun(db, runId));
  const changes = rolledUpRun(run, parts, now);
  const changed = Object.entries(changes).some(([k, v]) => run[k as keyof RunRow] !== v);
  if (!changed) return run;
  const { id: _id, ...settable } = { ...run, ...changes };
  // Only the rolled-up columns: rewriting the whole row (its YAML and spec) twice per run
  // was most of what a short job's reports wrote. Someone else got there first: the run is
  // as they left it.
  if (!(await updateRunIf(db, runId, [run.status], changes))) return findRun(db, runId);
  // A serving run that ended takes its endpoint with it (only serving runs have one).
  if (isServingJob({ jobType: run.job_type })) await endEndpointIfRunEnded(tx, { id: runId, status: settable.status }, now);
  if (isTerminalRunStatus(settable.status)) {
    const event = { event: `run.${settable.status.toLowerCase()}`, runId, reason: settable.reason, exitCode: settable.exit_code };
    if (settable.status === RunStatus.FINISHED) tx.log.info(event, "run finished");
    else tx.log.warn(event, `run ${settable.status.toLowerCase()}`);
  }
  return { ...run, ...changes };
}

export function isLivePart(part: RunDeviceRow): boolean {
  return !TERMINAL_EDGE_STATUSES.has(part.status);
}
