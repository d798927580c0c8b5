/**
 * One run on this device, from taken to ended: workspace, bootstrap.sh, job.sh, with the state
 * kept in the agent's journal (run-state.ts). It reports INITIALIZING and RUNNING through `onStatus` and resolves
 * `done` with the final outcome (written to the journal, not yet reported).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type Assignment, EdgeStatus, JobEnv, type RunStatusReport, type ServingReport } from "@fedml/core/contract";
import type { Logger } from "../log.js";
import {
  CONTAINER_JOB_DIR,
  type RegistryAuth,
  containerRunCommand,
  pullImage,
  removeContainer,
  removeRegistryAuth,
  writeRegistryAuth,
} from "./isolation/container.js";
import {
  buildJobEnv,
  handOver,
  type Isolation,
  type JobFolder,
  type JobIdentity,
  makeJobFolder,
  RunCgroup,
  recycleJobFolder,
  type RunLimits,
  takeBack,
} from "./isolation/index.js";
import { findProgram, plainWords } from "./plain-command.js";
import { type RunningScript, type ScriptExit, type StreamName, startScript } from "./process-group.js";
import { type RunState, initialRunState, runDir, updateRunState } from "./run-state.js";
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
  /** Users, cgroups, containers; absent: the job runs as the agent's user in its process group. */
  isolation?: Isolation;
  /** The agent's environment, from which only an allowlist reaches the job (default process.env). */
  agentEnv?: NodeJS.ProcessEnv;
  /** The highest log seq the server has acknowledged (a batch job checkpoints its log offsets up to it). */
  ackedLogSeq?: () => number;
}

export interface RunOutcome {
  status: string;
  exitCode: number | null;
  reason: string | null;
  /** The part goes on without this agent (a batch job it stopped following): nothing to report. */
  detached?: boolean;
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
  private user: JobIdentity | null = null;
  private cgroup: RunCgroup | null = null;
  private folder: JobFolder | null = null;
  private containerName: string | null = null;
  private registryAuth: RegistryAuth | null = null;
  /** Serve / deploy jobs: the port given to the job, once it has one. */
  servingPort: number | null = null;

  constructor(
    private readonly assignment: Assignment,
    private readonly deps: JobRunDeps,
  ) {
    this.runId = assignment.runId;
    // The run's state is first written with the first process's pid: before that there is
    // nothing a restarted agent could kill, and a run it does not know is failed by the server.
    this.state = initialRunState(assignment.runId);
    this.done = this.execute()
      .then(
        (outcome) => this.outcomeWithOom(outcome),
        (error: Error) => ({ status: EdgeStatus.FAILED, exitCode: null, reason: error.message }) as RunOutcome,
      )
      .then((outcome) => this.finish(outcome));
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
    // and one request less per run matters for the throughput of short jobs.
    if (assignment.workspaceSha256 || bootstrap) deps.onStatus({ status: EdgeStatus.INITIALIZING });
    const job = assignment.job?.posix;
    if (!job)
      return { status: EdgeStatus.FAILED, exitCode: null, reason: "the job has no command for Linux/macOS (run_on_posix)" };
    const isolation = deps.isolation;
    const container = assignment.container ?? null;
    if (container && !container.image) {
      return { status: EdgeStatus.FAILED, exitCode: null, reason: "containerize: true needs docker.image to name the image" };
    }
    if (container && !isolation?.container) {
      // Never run a container job on the host: it was written for the image's files and users.
      return {
        status: EdgeStatus.FAILED,
        exitCode: null,
        reason: `the job must run in image ${container.image} and this device has no container runtime (docker or podman); it was not run`,
      };
    }
    const stateDir = runDir(deps.home, this.runId);
    this.user = isolation?.users?.acquire() ?? null;
    const folder = makeJobFolder(isolation ? join(isolation.jobsRoot, this.runId) : stateDir, this.user);
    this.folder = folder;
    // A container's memory and CPU limits are the runtime's (on the container's own cgroup,
    // inside the run's): the runtime's client, which waits in the run's cgroup, is not the job's.
    this.cgroup = this.makeCgroup(container ? null : (assignment.limits ?? null), container !== null);
    let cwd: string;
    try {
      cwd = await deps.prepareWorkspace(folder.scripts, assignment.workspaceSha256);
    } catch (error) {
      if (this.stopCause) return STOP_OUTCOME[this.stopCause];
      return { status: EdgeStatus.FAILED, exitCode: null, reason: `workspace: ${(error as Error).message}` };
    }
    if (this.stopCause) return STOP_OUTCOME[this.stopCause];
    const servingPort = assignment.serving ? await freePort() : null;
    this.servingPort = servingPort;
    const jobVars: Record<string, string> = {
      // The run id in the env also lets a restarted agent tell its leftover processes from others.
      [JobEnv.RUN_ID]: this.runId,
      ...assignment.env,
      ...(servingPort === null || !assignment.serving
        ? {}
        : { [JobEnv.SERVING_PORT]: String(servingPort), [JobEnv.ENDPOINT_ID]: assignment.serving.endpointId }),
    };
    const inImage = (path: string) => (container ? `${CONTAINER_JOB_DIR}/${relative(folder.scripts, path)}` : path);
    const env = buildJobEnv({
      agentEnv: deps.agentEnv ?? agentEnvSnapshot(),
      jobVars,
      home: inImage(folder.home),
      tmpDir: inImage(folder.tmp),
      user: this.user?.name ?? null,
    });
    if (bootstrap) writeFileSync(join(folder.scripts, "bootstrap.sh"), withNewline(bootstrap), { mode: 0o700 });
    let launcher: ((script: string) => string[]) | null = null;
    if (container && isolation?.container) {
      this.registryAuth = writeRegistryAuth(isolation.container, container, stateDir);
      const refused = await pullImage(isolation.container, container, this.registryAuth);
      if (this.stopCause) return STOP_OUTCOME[this.stopCause];
      if (refused) return { status: EdgeStatus.FAILED, exitCode: null, reason: refused };
      launcher = this.containerLauncher(stateDir, folder, cwd, env);
    }
    const direct = launcher ? null : this.directCommand(job, env, cwd);
    if (!direct) writeFileSync(join(folder.scripts, "job.sh"), withNewline(job), { mode: 0o700 });
    handOver(folder, this.user);

    if (bootstrap) {
      const exit = await this.runScript(join(folder.scripts, "bootstrap.sh"), cwd, env, launcher);
      if (this.stopCause) return STOP_OUTCOME[this.stopCause];
      if (exit.exitCode !== 0) {
        return { status: EdgeStatus.FAILED, exitCode: exit.exitCode, reason: `bootstrap exited with code ${exit.exitCode}` };
      }
    }
    // Serving jobs only: an abort builds an error with its stack, a cost every short job would pay.
    const probing = servingPort === null ? null : { port: servingPort, stop: new AbortController() };
    // bash would have set PWD for the program it runs.
    const jobEnv = direct ? { ...env, PWD: cwd } : env;
    const started = () => {
      deps.onStatus({ status: EdgeStatus.RUNNING });
      if (probing) this.probe(probing.port, probing.stop.signal);
    };
    const exit = await this.runScript(join(folder.scripts, "job.sh"), cwd, jobEnv, launcher, EdgeStatus.RUNNING, started, direct);
    probing?.stop.abort();
    if (this.stopCause) return STOP_OUTCOME[this.stopCause];
    if (exit.exitCode === 0) return { status: EdgeStatus.FINISHED, exitCode: 0, reason: null };
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    return { status: EdgeStatus.FAILED, exitCode: exit.exitCode, reason: `job ${how}` };
  }

  /** The job's command line when it needs no shell (plain words naming a program found on its PATH). */
  private directCommand(job: string, env: Record<string, string>, cwd: string): string[] | null {
    const words = plainWords(job);
    if (!words) return null;
    const program = findProgram(words[0], env.PATH ?? "", cwd, this.user !== null);
    return program ? [program, ...words.slice(1)] : null;
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
    cwd: string,
    env: NodeJS.ProcessEnv,
    launcher: ((script: string) => string[]) | null,
    /** Written to the run's state together with the pid (one write instead of two). */
    statusOnStart?: string,
    onStarted?: () => void,
    /** Exec'd instead of `bash file` (a job that needs no shell). */
    argv?: string[] | null,
  ): Promise<ScriptExit> {
    const script = await startScript({
      script: file,
      cwd: launcher ? (this.folder?.root ?? cwd) : cwd,
      // The runtime itself needs the agent's environment (its config, XDG dirs); the job gets `env` through --env-file.
      env: launcher ? process.env : env,
      onLine: this.deps.onLine,
      user: launcher ? null : this.user,
      privateTmp: !launcher && this.deps.isolation?.privateTmp ? (this.folder?.tmp ?? null) : null,
      cgroup: this.cgroup,
      ...(launcher ? { command: launcher(file) } : argv ? { command: argv } : {}),
    });
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

  /** A cgroup when the machine allows one; limits without one are refused rather than ignored. */
  private makeCgroup(limits: RunLimits | null, forContainer: boolean): RunCgroup | null {
    const layout = this.deps.isolation?.cgroups;
    const wanted: RunLimits = { memoryBytes: limits?.memoryBytes ?? null, cpus: limits?.cpus ?? null };
    if (!layout || layout.version === 0) {
      if (wanted.memoryBytes !== null || wanted.cpus !== null) {
        this.deps.onLine(
          "stderr",
          "[fedml agent] this device cannot enforce computing.memory / computing.cpus (no cgroup access)",
        );
      }
      return null;
    }
    const cgroup = RunCgroup.create(layout, `run-${this.runId}`, wanted, forContainer);
    if (cgroup.unenforced.length > 0) {
      this.deps.onLine(
        "stderr",
        `[fedml agent] this device cannot enforce ${cgroup.unenforced.join(" / ")} (its cgroups lack the controller)`,
      );
    }
    return cgroup;
  }

  /** The runtime command line for a script of a container job (the job folder is mounted in the image). */
  private containerLauncher(stateDir: string, folder: JobFolder, cwd: string, env: Record<string, string>) {
    const runtime = this.deps.isolation?.container;
    const spec = this.assignment.container;
    if (!runtime || !spec) return null;
    const envFile = join(stateDir, "container.env");
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v.replace(/\n/g, " ")}\n`)
        .join(""),
      { mode: 0o600 },
    );
    this.containerName = `fedml-run-${this.runId}-${process.pid}`;
    const name = this.containerName;
    return (script: string) =>
      containerRunCommand({
        runtime,
        spec,
        name,
        jobDir: folder.scripts,
        script: relative(folder.scripts, script),
        cwd: relative(folder.scripts, cwd),
        envFile,
        user: this.user,
        limits: { memoryBytes: this.assignment.limits?.memoryBytes ?? null, cpus: this.assignment.limits?.cpus ?? null },
        cgroupParent: this.cgroup?.relativePath() ?? null,
        auth: this.registryAuth,
      });
  }

  /**
   * A job whose cgroup saw an OOM kill failed for memory, whatever its exit code says: a
   * script that carries on after its training step was killed has not done its work.
   */
  private outcomeWithOom(outcome: RunOutcome): RunOutcome {
    const cgroup = this.cgroup;
    if (!cgroup || this.stopCause === "user") return outcome;
    const limit = this.assignment.limits?.memoryBytes;
    if (this.assignment.container) {
      // The container's own cgroup, where its kill was counted, is gone with it: a SIGKILL
      // (137) while the run's peak (the container's included) reached the limit is that kill.
      const peak = cgroup.peakBytes();
      if (!limit || outcome.exitCode !== 137 || peak === null || peak < limit) return outcome;
    } else if (cgroup.oomKills() === 0) return outcome;
    const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
    return {
      status: EdgeStatus.FAILED,
      exitCode: outcome.exitCode,
      reason: `killed for exceeding its memory limit${limit ? ` of ${mib(limit)} (computing.memory)` : ""}`,
    };
  }

  /** Ends what the run holds on the machine: its container, cgroup, user and (unless it failed) its folder. */
  private release(outcome: RunOutcome): void {
    const runtime = this.deps.isolation?.container;
    if (runtime && this.containerName) removeContainer(runtime, this.containerName);
    removeRegistryAuth(this.registryAuth);
    this.cgroup?.remove();
    if (this.folder) {
      takeBack(this.folder, this.user);
      // With its cgroup emptied nothing of the job can still write in its folder.
      if (outcome.status !== EdgeStatus.FAILED && !(this.cgroup && !this.user && recycleJobFolder(this.folder))) {
        rmSync(this.folder.scripts, { recursive: true, force: true });
        // Where run folders are in runs/ (jobs as the agent's user), the run's own files (its
        // log spill) may still be in use: the supervisor removes the rest once the run is reported.
        if (this.folder.root !== runDir(this.deps.home, this.runId)) rmSync(this.folder.root, { recursive: true, force: true });
      }
    }
    if (this.user) this.deps.isolation?.users?.release(this.user);
    this.user = null;
  }

  private finish(outcome: RunOutcome): RunOutcome {
    try {
      this.release(outcome);
    } catch (error) {
      this.deps.log(`run ${this.runId}: cleaning up failed: ${(error as Error).message}`);
    }
    this.state = updateRunState(this.deps.home, this.state, { ...outcome, reported: false });
    this.deps.log(`run ${this.runId}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ""}`);
    return outcome;
  }
}

let agentEnvCopy: NodeJS.ProcessEnv | undefined;

/** process.env read once: each read of it crosses into C++, and the agent's own environment does not change. */
function agentEnvSnapshot(): NodeJS.ProcessEnv {
  agentEnvCopy ??= { ...process.env };
  return agentEnvCopy;
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
