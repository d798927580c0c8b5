/**
 * Where a run part executes: this machine (the local runner) or a batch system the agent
 * submits to (Slurm). The supervisor drives either through this seam.
 */
import type { Assignment } from "@fedml/core/contract";
import { JobRun, type JobRunDeps, type RunOutcome, type StopCause } from "./job-run.js";
import type { RunState } from "./run-state.js";

/** One run part being executed. */
export interface RunHandle {
  /** The final outcome (in the run's state, not yet reported); `detached` ones are not over. */
  readonly done: Promise<RunOutcome>;
  /** Serve / deploy jobs: the port given to the job, once it has one. */
  readonly servingPort: number | null;
  stop(cause: StopCause, graceMs: number): void;
  /**
   * The agent is going away but the part lives on without it (a batch job): stop following
   * it; `done` resolves `detached` and a restarted agent re-attaches. Absent: stop it.
   */
  detach?(): void;
}

export interface ReattachDeps extends Omit<JobRunDeps, "prepareWorkspace"> {}

export interface RunBackend {
  readonly kind: "local" | "slurm";
  start(assignment: Assignment, deps: JobRunDeps): RunHandle;
  /** A part a previous agent left running that this backend can follow again (by its state). */
  canReattach(state: RunState): boolean;
  reattach(state: RunState, deps: ReattachDeps): RunHandle;
  /** Line numbering of a re-attached part goes on after this seq. */
  firstLogSeq(state: RunState): number;
  close(): void;
}

export const localBackend: RunBackend = {
  kind: "local",
  start: (assignment, deps) => new JobRun(assignment, deps),
  canReattach: () => false,
  reattach: () => {
    throw new Error("local runs cannot be re-attached: their processes ended with the agent");
  },
  firstLogSeq: () => 1,
  close: () => {},
};
