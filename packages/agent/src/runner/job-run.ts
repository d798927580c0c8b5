/**
 * One run on this device, from taken to ended: workspace, bootstrap.sh, job.sh, with the state
 * kept in state.json. It reports INITIALIZING and RUNNING through `onStatus` and resolves
 * `done` with the final outcome (written to state.json, not yet reported).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Assignment, EdgeStatus, JobEnv, type RunStatusReport, type ServingReport } from "@fedml/core/contract";
import type { Logger } from "../log.js";
import { type RunningScript, type ScriptExit, type StreamName, startScript } from "./process-group.js";
import { type RunState, initialRunState, runDir, updateRunState, writeRunState } from "./run-state.js";
import { freePort, watchReadiness } from "./serving.js";

export interface JobRunDeps {
  home: string;
  /** Makes the job's cwd inside the run folder (workspace.ts `prepareWorkspace`). */
  prepareWorkspace: (runFolder: string, workspaceSha256: string | null) => Promise<string>;
  onLine: (stream: StreamName, text: string) => void;
  onStatus: (report: RunStatusReport) => void;
  /** Serve / deploy jobs: called once the job answers the readiness probe on its port. */
  onServing?: (report: ServingReport) => void;
  log: Logger;
}

export interface RunOutcome {
  status: string;
  exitCode: number | null;
  reason: string | null;
}

/** Who asked for the stop decides how the run ends. */
export type StopCause = "user" | "agent";

const STOP_OUTCOME: Record<StopCause, RunOutcome> = {
  user: { status: EdgeStatus.KILLED, exitCode: null, reason: "stopped by the user" },
  agent: { status: EdgeStatus.FAILED, exitCode: null, reason: "agent stopped" },
};

export class JobRun {
  readonly runId: string;
  readonly done: Promise<RunOutcome>;
  private state: RunState;
  private script: RunningScript | null = null;
  private stopCause: StopCause | null = null;
  private stopGraceMs = 0;
  /** Serve / deploy jobs: the port given to the job, once it has one. */
  servingPort: number | null = null;

  constructor(
    private readonly assignment: Assignment,
    private readonly deps: JobRunDeps,
  ) {
    this.runId = assignment.runId;
    this.state = writeRunState(deps.home, initialRunState(assignment.runId));
    this.done = this.execute().then(
      (outcome) => this.finish(outcome),
      (error: Error) => this.finish({ status: EdgeStatus.FAILED, exitCode: null, reason: error.message }),
    );
  }

  get pid(): number | null {
    return this.state.pid;
  }

  /** Idempotent; the first cause wins (a user stop during an agent shutdown stays a user stop). */
  stop(cause: StopCause, graceMs: number): void {
    if (this.stopCause) return;
    this.stopCause = cause;
    this.stopGraceMs = graceMs;
    this.deps.log(`run ${this.runId}: stopping (${cause === "user" ? "requested by the user" : "agent stopping"})`);
    this.script?.stop(graceMs);
  }

  private async execute(): Promise<RunOutcome> {
    const assignment = this.assignment;
    const deps = this.deps;
    const bootstrap = assignment.bootstrap?.posix;
    // With nothing to download or install the job starts at once: RUNNING alone says enough,
    // and one request less per run matters for short jobs (issue 6 throughput).
    if (assignment.workspaceSha256 || bootstrap) deps.onStatus({ status: EdgeStatus.INITIALIZING });
    const job = assignment.job?.posix;
    if (!job)
      return { status: EdgeStatus.FAILED, exitCode: null, reason: "the job has no command for Linux/macOS (run_on_posix)" };
    const folder = runDir(deps.home, this.runId);
    let cwd: string;
    try {
      cwd = await deps.prepareWorkspace(folder, assignment.workspaceSha256);
    } catch (error) {
      if (this.stopCause) return STOP_OUTCOME[this.stopCause];
      return { status: EdgeStatus.FAILED, exitCode: null, reason: `workspace: ${(error as Error).message}` };
    }
    if (this.stopCause) return STOP_OUTCOME[this.stopCause];
    const servingPort = assignment.serving ? await freePort() : null;
    this.servingPort = servingPort;
    // The run id in the env also lets a restarted agent tell its leftover processes from others.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [JobEnv.RUN_ID]: this.runId,
      ...assignment.env,
      ...(servingPort === null || !assignment.serving
        ? {}
        : { [JobEnv.SERVING_PORT]: String(servingPort), [JobEnv.ENDPOINT_ID]: assignment.serving.endpointId }),
      PYTHONUNBUFFERED: "1",
    };

    if (bootstrap) {
      const exit = await this.runScript(join(folder, "bootstrap.sh"), bootstrap, cwd, env);
      if (this.stopCause) return STOP_OUTCOME[this.stopCause];
      if (exit.exitCode !== 0) {
        return { status: EdgeStatus.FAILED, exitCode: exit.exitCode, reason: `bootstrap exited with code ${exit.exitCode}` };
      }
    }
    const probing = new AbortController();
    const exit = await this.runScript(join(folder, "job.sh"), job, cwd, env, EdgeStatus.RUNNING, () => {
      deps.onStatus({ status: EdgeStatus.RUNNING });
      if (servingPort !== null) this.probe(servingPort, probing.signal);
    });
    probing.abort();
    if (this.stopCause) return STOP_OUTCOME[this.stopCause];
    if (exit.exitCode === 0) return { status: EdgeStatus.FINISHED, exitCode: 0, reason: null };
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    return { status: EdgeStatus.FAILED, exitCode: exit.exitCode, reason: `job ${how}` };
  }

  private probe(port: number, signal: AbortSignal): void {
    const serving = this.assignment.serving;
    void watchReadiness(
      port,
      signal,
      (ready) => {
        if (signal.aborted) return;
        this.deps.log(`run ${this.runId}: ${ready ? "serving" : "not answering its readiness probe"} on port ${port}`);
        this.deps.onServing?.({ port, ready });
      },
      { path: serving?.probePath, intervalMs: serving?.probeIntervalMs },
    );
  }

  private async runScript(
    file: string,
    text: string,
    cwd: string,
    env: NodeJS.ProcessEnv,
    /** Written to state.json together with the pid (one write instead of two). */
    statusOnStart?: string,
    onStarted?: () => void,
  ): Promise<ScriptExit> {
    writeFileSync(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o700 });
    const script = startScript({ script: file, cwd, env, onLine: this.deps.onLine });
    this.script = script;
    const pid = script.pid > 0 ? script.pid : null;
    this.state = updateRunState(this.deps.home, this.state, {
      pid,
      pgid: pid,
      ...(statusOnStart ? { status: statusOnStart } : {}),
    });
    onStarted?.();
    // A stop that arrived while the previous step was ending must still reach this one.
    if (this.stopCause) script.stop(this.stopGraceMs);
    try {
      return await script.exited;
    } finally {
      this.script = null;
    }
  }

  private finish(outcome: RunOutcome): RunOutcome {
    this.state = updateRunState(this.deps.home, this.state, { ...outcome, reported: false });
    this.deps.log(`run ${this.runId}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ""}`);
    return outcome;
  }
}
