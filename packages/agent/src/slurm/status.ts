/** Slurm job states as run-part statuses. Pure. */
import { EdgeStatus } from "@fedml/core/contract";
import type { SlurmJob } from "./parse.js";

export interface SlurmPartStatus {
  /** QUEUED, RUNNING, or a final EdgeStatus. */
  status: string;
  final: boolean;
  exitCode: number | null;
  reason: string | null;
}

const WAITING = new Set(["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SPECIAL_EXIT"]);
/** Still on its nodes (COMPLETING: the script ended, the epilog has not). */
const LIVE = new Set(["RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING"]);

const FAILURE_WORDS: Record<string, string> = {
  FAILED: "failed",
  TIMEOUT: "hit its time limit (TIMEOUT)",
  OUT_OF_MEMORY: "ran out of memory (OUT_OF_MEMORY)",
  NODE_FAIL: "lost a node of its allocation (NODE_FAIL)",
  BOOT_FAIL: "could not boot its nodes (BOOT_FAIL)",
  DEADLINE: "missed its deadline (DEADLINE)",
  PREEMPTED: "was preempted (PREEMPTED)",
  REVOKED: "was revoked (REVOKED)",
};

/** `stoppedByUs`: we sent the scancel, so CANCELLED is the user's stop rather than someone else's. */
export function slurmPartStatus(job: SlurmJob, stoppedByUs = false): SlurmPartStatus {
  const name = `Slurm job ${job.jobId}`;
  const state = job.state.split(/\s|\+/)[0];
  if (WAITING.has(state)) {
    const why = job.reason ? `: ${job.reason}` : "";
    return { status: EdgeStatus.QUEUED, final: false, exitCode: null, reason: `${name} is ${state.toLowerCase()}${why}` };
  }
  if (LIVE.has(state)) return { status: EdgeStatus.RUNNING, final: false, exitCode: null, reason: null };
  const exitCode = job.waitStatus >> 8;
  const signal = job.waitStatus & 0x7f;
  if (state === "COMPLETED") return { status: EdgeStatus.FINISHED, final: true, exitCode: 0, reason: null };
  if (state === "CANCELLED") {
    return {
      status: EdgeStatus.KILLED,
      final: true,
      exitCode: null,
      reason: stoppedByUs ? "stopped by the user" : `${name} was cancelled in Slurm (scancel)`,
    };
  }
  const words = FAILURE_WORDS[state] ?? `ended ${state}`;
  const detail =
    state === "FAILED"
      ? signal
        ? `: killed by signal ${signal}`
        : `: job exited with code ${exitCode}${job.reason && job.reason !== "NonZeroExitCode" ? ` (${job.reason})` : ""}`
      : job.reason && job.reason !== state
        ? ` (${job.reason})`
        : "";
  return {
    status: EdgeStatus.FAILED,
    final: true,
    exitCode: signal ? 128 + signal : state === "FAILED" ? exitCode : exitCode || null,
    reason: `${name} ${words}${detail}`,
  };
}
