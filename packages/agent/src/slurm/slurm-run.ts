/**
 * One run part as one Slurm batch job: the workspace unpacked on the shared folder, sbatch,
 * then the job followed through squeue (QUEUED with Slurm's reason, RUNNING, the end) and its
 * output files read line by line. The job id and the log offsets the server has acknowledged
 * are kept in the run's state (run-state.ts), so a restarted agent follows the same job on from where it was.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Assignment, EdgeStatus, JobEnv } from "@fedml/core/contract";
import type { ReattachDeps, RunHandle } from "../runner/backend.js";
import type { JobRunDeps, RunOutcome, StopCause } from "../runner/job-run.js";
import { PASSED_THROUGH } from "../runner/isolation/job-env.js";
import { type RunState, type SlurmRecord, initialRunState, updateRunState, writeRunState } from "../runner/run-state.js";
import { ERR_FILE, OUT_FILE, batchScript, envScript, nodeScript } from "./batch-script.js";
import type { SlurmCli } from "./cli.js";
import type { SlurmJob } from "./parse.js";
import type { QueueWatch } from "./queue-watch.js";
import type { SlurmSettings } from "./settings.js";
import { allocationFor } from "./sizing.js";
import { slurmPartStatus } from "./status.js";
import { FileTail } from "./log-tail.js";

export interface SlurmRunContext {
  home: string;
  cli: SlurmCli;
  watch: QueueWatch;
  settings: SlurmSettings;
  /** GPUs on one node of the partition (how a big part is cut into nodes). */
  gpusPerNode: () => number;
  /** How often output files are read. */
  tailMs: number;
}

/** What sbatch (and so the job) inherits from the agent: how to find programs, never its secrets. */
const SUBMIT_ENV = [...PASSED_THROUGH, "HOME", "USER", "LOGNAME", "SHELL", "MODULEPATH", "MODULESHOME", "SLURM_CONF"];

export function submitEnv(agentEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of SUBMIT_ENV) if (agentEnv[name] !== undefined) env[name] = agentEnv[name];
  for (const [name, value] of Object.entries(agentEnv)) if (name.startsWith("LC_")) env[name] = value;
  return env;
}

type Deps = Omit<JobRunDeps, "prepareWorkspace"> & Partial<Pick<JobRunDeps, "prepareWorkspace">>;

export class SlurmRun implements RunHandle {
  readonly done: Promise<RunOutcome>;
  readonly servingPort = null;
  readonly runId: string;
  private state: RunState;
  private stopCause: StopCause | null = null;
  private detached = false;
  private lastStatus: string | null = null;
  private lastReason: string | null = null;
  private out: FileTail | null = null;
  private err: FileTail | null = null;
  /** Log seq reached after each read, with the offsets it ended at (checkpoint candidates). */
  private marks: { seq: number; out: number; err: number }[] = [];
  private seq = 0;
  private wake: (() => void) | null = null;
  private latest: { job: SlurmJob | null; error: Error | null } | null = null;

  private constructor(
    runId: string,
    state: RunState,
    private readonly ctx: SlurmRunContext,
    private readonly deps: Deps,
    work: (self: SlurmRun) => Promise<RunOutcome>,
  ) {
    this.runId = runId;
    this.state = state;
    this.done = work(this)
      .catch((error: Error) => ({ status: EdgeStatus.FAILED, exitCode: null, reason: error.message }) as RunOutcome)
      .then((outcome) => this.finish(outcome));
  }

  static start(assignment: Assignment, ctx: SlurmRunContext, deps: JobRunDeps): SlurmRun {
    const dir = join(ctx.settings.sharedDir, assignment.runId);
    const record: SlurmRecord = { jobId: null, dir, logSeq: 0, outOffset: 0, errOffset: 0 };
    const state = writeRunState(ctx.home, { ...initialRunState(assignment.runId), slurm: record });
    return new SlurmRun(assignment.runId, state, ctx, deps, (self) => self.submitAndFollow(assignment, deps));
  }

  static reattach(state: RunState, ctx: SlurmRunContext, deps: ReattachDeps): SlurmRun {
    const record = state.slurm as SlurmRecord;
    deps.log(`run ${state.runId}: following Slurm job ${record.jobId} again`);
    return new SlurmRun(state.runId, state, ctx, deps, (self) => self.follow(record));
  }

  stop(cause: StopCause, _graceMs: number): void {
    if (this.stopCause || this.detached) return;
    this.stopCause = cause;
    const jobId = this.state.slurm?.jobId;
    this.deps.log(`run ${this.runId}: stopping${jobId ? ` (scancel ${jobId})` : ""}`);
    if (jobId) this.cancel(jobId);
    this.wake?.();
  }

  detach(): void {
    if (this.stopCause || this.detached) return;
    this.detached = true;
    this.wake?.();
  }

  private cancel(jobId: string): void {
    this.ctx.cli.scancel(jobId).then(
      () => this.ctx.watch.poke(),
      (error: Error) => this.deps.log(`run ${this.runId}: ${error.message}`),
    );
  }

  private async submitAndFollow(assignment: Assignment, deps: Deps): Promise<RunOutcome> {
    const job = assignment.job?.posix;
    if (!job) return failed("the job has no command for Linux/macOS (run_on_posix)");
    if (assignment.serving) return failed("serve and deploy jobs cannot run on a Slurm device (no port reaches its nodes)");
    if (assignment.container)
      return failed(`the job must run in image ${assignment.container.image}: Slurm devices run no containers`);
    const record = this.state.slurm as SlurmRecord;
    const bootstrap = assignment.bootstrap?.posix ?? null;
    if (assignment.workspaceSha256 || bootstrap) deps.onStatus({ status: EdgeStatus.INITIALIZING });
    mkdirSync(record.dir, { recursive: true, mode: 0o700 });
    let cwd = record.dir;
    if (deps.prepareWorkspace) {
      try {
        cwd = await deps.prepareWorkspace(record.dir, assignment.workspaceSha256);
      } catch (error) {
        if (this.stopCause) return this.stopOutcome();
        return failed(`workspace: ${(error as Error).message}`);
      }
    }
    if (this.stopCause) return this.stopOutcome();
    const { settings } = this.ctx;
    const spec = {
      runId: this.runId,
      dir: record.dir,
      cwd,
      allocation: allocationFor(assignment.gpuIndices.length, this.ctx.gpusPerNode()),
      timeLimitMinutes: assignment.limits?.timeLimitSeconds ? assignment.limits.timeLimitSeconds / 60 : null,
      partition: settings.partition,
      account: settings.account,
      qos: settings.qos,
      extraArgs: settings.extraArgs,
      hasBootstrap: bootstrap !== null,
      ownsWorld: assignment.numNodes <= 1,
    };
    const vars = { [JobEnv.RUN_ID]: this.runId, ...assignment.env, PYTHONUNBUFFERED: "1" };
    writeFileSync(join(record.dir, "env.sh"), envScript(vars), { mode: 0o600 });
    if (bootstrap) writeFileSync(join(record.dir, "bootstrap.sh"), withNewline(bootstrap), { mode: 0o700 });
    writeFileSync(join(record.dir, "job.sh"), withNewline(job), { mode: 0o700 });
    if (spec.allocation.nodes > 1) writeFileSync(join(record.dir, "node.sh"), nodeScript(spec), { mode: 0o700 });
    const script = join(record.dir, "batch.sh");
    writeFileSync(script, batchScript(spec), { mode: 0o700 });
    const jobId = await this.ctx.cli.sbatch(script, submitEnv(deps.agentEnv ?? process.env));
    this.state = updateRunState(this.ctx.home, this.state, { slurm: { ...record, jobId } });
    deps.log(
      `run ${this.runId}: Slurm job ${jobId} (${spec.allocation.nodes} node(s), ${spec.allocation.gpusPerNode} GPU(s) each)`,
    );
    // A stop that came while sbatch was answering.
    if (this.stopCause) this.cancel(jobId);
    return this.follow(this.state.slurm as SlurmRecord);
  }

  private async follow(record: SlurmRecord): Promise<RunOutcome> {
    const jobId = record.jobId as string;
    this.seq = record.logSeq;
    this.out = new FileTail(join(record.dir, OUT_FILE), record.outOffset);
    this.err = new FileTail(join(record.dir, ERR_FILE), record.errOffset);
    const unfollow = this.ctx.watch.follow(jobId, (job, error) => {
      this.latest = { job, error };
      this.wake?.();
    });
    try {
      for (;;) {
        if (this.detached) {
          this.readLogs(false);
          return { status: this.state.status, exitCode: null, reason: null, detached: true };
        }
        this.readLogs(false);
        this.checkpoint();
        const latest = this.latest;
        this.latest = null;
        if (latest?.error) this.deps.log(`run ${this.runId}: asking Slurm about job ${jobId} failed: ${latest.error.message}`);
        else if (latest && latest.job === null) {
          this.readLogs(true);
          return failed(`Slurm no longer knows job ${jobId} (it ended more than MinJobAge ago, or was purged)`);
        } else if (latest?.job) {
          const part = slurmPartStatus(latest.job, this.stopCause !== null);
          if (part.final) {
            this.readLogs(true);
            if (part.status === EdgeStatus.KILLED && this.stopCause) return this.stopOutcome();
            return { status: part.status, exitCode: part.exitCode, reason: part.reason };
          }
          this.report(part.status, part.reason);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.ctx.tailMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    } finally {
      unfollow();
    }
  }

  private report(status: string, reason: string | null): void {
    if (status === this.lastStatus && reason === this.lastReason) return;
    if (status === this.lastStatus && status !== EdgeStatus.QUEUED) return;
    this.lastStatus = status;
    this.lastReason = reason;
    this.state = updateRunState(this.ctx.home, this.state, { status });
    this.deps.onStatus({ status, reason });
  }

  private readLogs(final: boolean): void {
    if (!this.out || !this.err) return;
    let pushed = false;
    for (const line of this.out.read(final)) {
      this.deps.onLine("stdout", line);
      this.seq++;
      pushed = true;
    }
    for (const line of this.err.read(final)) {
      this.deps.onLine("stderr", line);
      this.seq++;
      pushed = true;
    }
    if (pushed) this.marks.push({ seq: this.seq, out: this.out.offset, err: this.err.offset });
  }

  /** Remembers the offsets of the last acknowledged line (a restart re-reads from there). */
  private checkpoint(): void {
    const acked = this.deps.ackedLogSeq?.() ?? 0;
    let mark: { seq: number; out: number; err: number } | undefined;
    while (this.marks.length > 0 && this.marks[0].seq <= acked) mark = this.marks.shift();
    const record = this.state.slurm;
    if (!mark || !record || mark.seq <= record.logSeq) return;
    this.state = updateRunState(this.ctx.home, this.state, {
      slurm: { ...record, logSeq: mark.seq, outOffset: mark.out, errOffset: mark.err },
    });
  }

  private stopOutcome(): RunOutcome {
    return this.stopCause === "agent"
      ? { status: EdgeStatus.FAILED, exitCode: null, reason: "agent stopped" }
      : { status: EdgeStatus.KILLED, exitCode: null, reason: "stopped by the user" };
  }

  private finish(outcome: RunOutcome): RunOutcome {
    if (outcome.detached) {
      this.deps.log(
        `run ${this.runId}: left running in Slurm (job ${this.state.slurm?.jobId}); a restarted agent follows it again`,
      );
      return outcome;
    }
    this.state = updateRunState(this.ctx.home, this.state, {
      status: outcome.status,
      exitCode: outcome.exitCode,
      reason: outcome.reason,
      reported: false,
    });
    // The shared folder (workspace, scripts, output) of a failed run stays, to debug it.
    const dir = this.state.slurm?.dir;
    if (dir && outcome.status !== EdgeStatus.FAILED) rmSync(dir, { recursive: true, force: true });
    this.deps.log(`run ${this.runId}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ""}`);
    return outcome;
  }
}

function failed(reason: string): RunOutcome {
  return { status: EdgeStatus.FAILED, exitCode: null, reason };
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
