import {
  EdgeStatus,
  FedmlError,
  ResultCode,
  type RunReportEntry,
  type RunReportOutcome,
  type RunStatusReport,
  TERMINAL_EDGE_STATUSES,
} from "@fedml/core";
import type { ServerContext } from "../context.js";
import { parseRowId } from "../store/ids.js";
import { runTopic } from "../notify.js";
import { type RunDeviceRow, type RunRow, listPartsOfRun, lockAndFindRun, updateRunDeviceIf } from "../store/runs.js";
import { transition } from "../transition.js";
import { stopRestOfGang } from "./gang.js";
import { refreshRunStatus } from "./rollup.js";
import { settlePart } from "./settle.js";
import { checkStatusReport } from "../devices/reported-values.js";

/** Progress reports that start a part's clock (its started_at). */
const STARTING_STATUSES = new Set<string>([EdgeStatus.RUNNING, EdgeStatus.TRAINING]);

const REPORTABLE = new Set<string>([
  // A batch device's part waiting in its scheduler's queue (Slurm's PENDING), with the reason.
  EdgeStatus.QUEUED,
  EdgeStatus.INITIALIZING,
  EdgeStatus.RUNNING,
  EdgeStatus.TRAINING,
  EdgeStatus.FINISHED,
  EdgeStatus.FAILED,
  EdgeStatus.EXCEPTION,
  EdgeStatus.KILLED,
]);

function defaultReason(status: string, exitCode: number | null): string | null {
  if (status === EdgeStatus.FAILED || status === EdgeStatus.EXCEPTION) {
    return exitCode === null ? "the job failed" : `the job exited with code ${exitCode}`;
  }
  if (status === EdgeStatus.KILLED) return "stopped on request";
  return null;
}

/**
 * An agent's word on its part of a run. Idempotent: an ended part never changes again. A
 * final report is one transaction: the part, its charge and payout, the rest of a failed
 * gang, the run's roll-up and its endpoint.
 */
export async function applyStatusReport(
  ctx: ServerContext,
  runId: number,
  deviceId: number,
  reported: RunStatusReport,
): Promise<void> {
  const report = checkStatusReport(reported);
  const ended = await transition(ctx, async (tctx) => {
    const checked = await checkPart(tctx, runId, deviceId, report);
    return (await applyToPart(tctx, checked, report)).ended;
  });
  // The reporting agent already knows its part ended, so its assignments are not bumped here:
  // waking its long-poll only to drop the run cost a round trip per job. A run placed on the
  // freed capacity bumps the device as usual.
  if (ended) ctx.placement.wake(ctx);
}

/**
 * A batch of one device's reports (POST /agent/reports) in ONE transaction: the commit, and
 * so the answer, comes once for all of them. Each report is applied as applyStatusReport
 * would, conditional on the state it finds; one refused (unknown run, bad status) is answered
 * with its own 4xx and the others still apply: refusals are decided before that report
 * writes anything, and any failure while writing fails the whole batch (the agent resends it). Runs are taken in id order (each run's reports in the order sent),
 * so two batches lock their runs in the same order.
 */
export async function applyStatusReports(
  ctx: ServerContext,
  deviceId: number,
  entries: RunReportEntry[],
): Promise<RunReportOutcome[]> {
  const outcomes: RunReportOutcome[] = new Array(entries.length);
  const order = entries
    .map((entry, index) => ({ entry, index, runId: parseRowId(entry.runId) }))
    .sort((a, b) => (a.runId ?? -1) - (b.runId ?? -1));
  const ended = await transition(ctx, async (tctx) => {
    let anyEnded = false;
    // A run's state as the previous report of the batch left it (a short job's RUNNING and
    // final report come together): the next report of that run starts from it, unread.
    let carried: (RunState & { runId: number }) | undefined;
    // A progress report followed in this batch by its run's final one (a short job's RUNNING
    // and FINISHED) is checked but not written: the transaction commits the final state
    // alone, so no one could see the step between, and writing it cost the part's and the
    // run's rows a write each. What it would leave for the final one (the part's start) is
    // carried: the run whose skipped report said its part started.
    let startedRun: number | undefined;
    for (const [position, { entry, index, runId }] of order.entries()) {
      const { runId: _, ...reported } = entry;
      let checked: { part: CheckedPart; report: RunStatusReport };
      try {
        if (runId === undefined) throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${entry.runId} not found`, 404);
        const report = checkStatusReport(reported);
        const known = carried?.runId === runId ? carried : undefined;
        checked = { part: await checkPart(tctx, runId, deviceId, report, known), report };
      } catch (error) {
        if (!(error instanceof FedmlError) || error.httpStatus === undefined || error.httpStatus >= 500) throw error;
        outcomes[index] = { status: error.httpStatus, resultCode: error.resultCode, error: error.message };
        continue;
      }
      const status = checked.report.status.toUpperCase();
      if (!TERMINAL_EDGE_STATUSES.has(status) && isFinalReportOf(order[position + 1], runId)) {
        if (STARTING_STATUSES.has(status)) startedRun = runId;
        carried = { runId, run: checked.part.run, parts: checked.part.parts };
        outcomes[index] = { status: 200 };
        continue;
      }
      const applied = await applyToPart(tctx, checked.part, checked.report, startedRun === runId);
      if (applied.ended) anyEnded = true;
      carried = applied.after && { runId: checked.part.run.id, ...applied.after };
      outcomes[index] = { status: 200 };
    }
    return anyEnded;
  });
  if (ended) ctx.placement.wake(ctx);
  return outcomes;
}

/**
 * Whether `next` (the batch's next report in order) is `runId`'s final report and passes the
 * checks its own turn makes of the report itself: then it is written after the report before
 * it, whose step it makes invisible. (Its part is the one that report's turn just checked.)
 */
function isFinalReportOf(next: { entry: RunReportEntry; runId: number | undefined } | undefined, runId: number): boolean {
  if (next?.runId !== runId) return false;
  const { runId: _, ...reported } = next.entry;
  try {
    return TERMINAL_EDGE_STATUSES.has(checkStatusReport(reported).status.toUpperCase());
  } catch {
    return false;
  }
}

/**
 * The part a report is about, with its run (locked) and the run's parts as they stand: what
 * the report's billing and roll-up read, so they need not read it again.
 */
interface RunState {
  run: RunRow;
  parts: RunDeviceRow[];
}

interface CheckedPart extends RunState {
  part: RunDeviceRow;
}

/**
 * The part a report is about, locked; throws the report's refusal, having written nothing.
 * `known`: the run as this transaction already holds it (locked, read or written by it).
 */
async function checkPart(
  tctx: ServerContext,
  runId: number,
  deviceId: number,
  report: RunStatusReport,
  known?: RunState,
): Promise<CheckedPart> {
  const run = known ? known.run : await lockAndFindRun(tctx.db, runId);
  const parts = known ? known.parts : run ? await listPartsOfRun(tctx.db, runId) : [];
  const part = parts.find((p) => p.device_id === deviceId);
  if (!run || !part) {
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} is not assigned to device ${deviceId}`, 404);
  }
  if (!REPORTABLE.has(report.status.toUpperCase())) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `status ${report.status} is not one of ${[...REPORTABLE].join(", ")}`,
      400,
    );
  }
  return { part, run, parts };
}

/**
 * When the part's job started, as billing should see it. The agent may send a short job's
 * RUNNING and final reports in one request, so the server's own clock saw no span between
 * them; the job's runtime, measured by the agent, counts back from the end instead. Never
 * before the run was placed: an agent cannot bill for time it did not have the part.
 */
function startOfEndedPart({ part, run }: CheckedPart, runtimeMs: number | null, now: number): number | null {
  if (part.started_at === null || runtimeMs === null || now - part.started_at >= runtimeMs) return part.started_at;
  const placedAt = run.placed_at ?? part.started_at;
  return Math.min(part.started_at, Math.max(placedAt, now - runtimeMs));
}

/**
 * A checked report applied inside the caller's transaction: whether it ended the part, and
 * the run and its parts as it left them (when it knows them without reading).
 */
async function applyToPart(
  tctx: ServerContext,
  stored: CheckedPart,
  report: RunStatusReport,
  /** A report of the same batch, not written, said the part started (RUNNING): it started now. */
  startedInBatch = false,
): Promise<{ ended: boolean; after?: RunState }> {
  const storedStart = stored.part.started_at;
  const checked =
    startedInBatch && storedStart === null && !TERMINAL_EDGE_STATUSES.has(stored.part.status)
      ? { ...stored, part: { ...stored.part, started_at: tctx.now() } }
      : stored;
  const { part } = checked;
  const status = report.status.toUpperCase();
  const { db } = tctx;
  const runId = part.run_id;
  const deviceId = part.device_id;
  if (TERMINAL_EDGE_STATUSES.has(part.status)) return { ended: false, after: checked };
  const now = tctx.now();
  const ends = TERMINAL_EDGE_STATUSES.has(status);
  const runtimeMs = report.runtimeMs === undefined || report.runtimeMs === null ? null : Math.round(report.runtimeMs);
  const startedAt = ends ? startOfEndedPart(checked, runtimeMs, now) : part.started_at;
  const changes = ends
    ? {
        status,
        exit_code: report.exitCode ?? null,
        // A stop the server asked for with a reason (a gang's failed node, an empty balance) says why.
        reason:
          (part.stop_requested === 1 ? part.reason : null) ?? report.reason ?? defaultReason(status, report.exitCode ?? null),
        ended_at: now,
        runtime_ms: runtimeMs,
        ...(startedAt === storedStart ? {} : { started_at: startedAt }),
      }
    : {
        // A stop was asked for: progress reports must not undo STOPPING.
        status: part.stop_requested === 1 ? EdgeStatus.STOPPING : status,
        // Why a part waits in a batch queue; gone once it runs (a stop's reason stays).
        ...(part.stop_requested === 1
          ? {}
          : status === EdgeStatus.QUEUED
            ? { reason: report.reason ?? null }
            : part.status === EdgeStatus.QUEUED
              ? { reason: null }
              : {}),
        started_at: part.started_at ?? (STARTING_STATUSES.has(status) ? now : null),
      };
  // Someone else got there first (the part ended or changed since it was read): theirs stands.
  if (!(await updateRunDeviceIf(db, runId, deviceId, [part.status], changes))) return { ended: false };
  const written = { ...part, ...changes };
  let gangStopped = false;
  if (ends) {
    await settlePart(tctx, runId, deviceId, written, checked.run);
    if (status === EdgeStatus.FAILED || status === EdgeStatus.EXCEPTION) {
      await stopRestOfGang(tctx, runId, deviceId);
      gangStopped = checked.parts.length > 1;
    }
  }
  // The run and its parts as this transaction left them (the rest of a stopped gang is read again).
  const parts = gangStopped ? undefined : checked.parts.map((p) => (p === stored.part ? written : p));
  const run = await refreshRunStatus(tctx, runId, now, { run: checked.run, parts });
  tctx.hub.notify(runTopic(runId));
  return { ended: ends, after: run && parts ? { run, parts } : undefined };
}
