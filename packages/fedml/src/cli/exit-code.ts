/**
 * The exit code of a command that waited for a run (`fedml launch`, `fedml run logs -f`),
 * so that scripts can branch on the job's own result the way they do with `docker run` or `srun`.
 */
import { type FedMLRunModel, RunStatus } from "@fedml/core";

/** A run stopped by a stop request: what a shell reports for a process ended by SIGTERM. */
export const STOPPED_EXIT = 143;
/** A run that failed without an exit code of its own (device lost, workspace error, ...). */
export const FAILED_EXIT = 1;

/**
 * FINISHED -> 0; FAILED -> the run's exit code (the first failing node's, as the server rolls it
 * up for multi-node and federated runs), or 1 when no node reported one; KILLED (stopped) -> 143.
 * Pure.
 */
export function exitCodeOfRun(run: Pick<FedMLRunModel, "status" | "exitCode"> | undefined): number {
  if (!run) return FAILED_EXIT;
  if (run.status === RunStatus.FINISHED) return 0;
  if (run.status === RunStatus.KILLED) return STOPPED_EXIT;
  const code = run.exitCode;
  return typeof code === "number" && Number.isInteger(code) && code > 0 && code < 256 ? code : FAILED_EXIT;
}
