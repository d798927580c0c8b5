/**
 * The runs of this device: starts what the server assigns, stops what it asks to stop, and
 * reports each run's statuses in order, the final one only after all its log lines are acked.
 */
import { type Assignment, EdgeStatus, FedmlError, type RunStatusReport, type ServingReport } from "@fedml/core/contract";
import { AgentStoppedError, type AgentClient } from "../client.js";
import type { Logger } from "../log.js";
import { type RunBackend, type RunHandle, localBackend } from "../runner/backend.js";
import type { RunOutcome } from "../runner/job-run.js";
import {
  type RunState,
  forgetRunStates,
  initialRunState,
  isFinalStatus,
  readRunState,
  updateRunState,
  writeRunState,
} from "../runner/run-state.js";
import { join } from "node:path";
import { existsSync, rmSync } from "node:fs";
import type { Isolation } from "../runner/isolation/index.js";
import { dropSpareFolders, sweepJobFolders } from "../runner/isolation/run-folder.js";
import { evictWorkspaceCache, holdWorkspace, prepareWorkspace, releaseWorkspace } from "../runner/workspace.js";
import { runDir, runsDir } from "../runner/run-state.js";
import { LogShipper } from "../shipper.js";
import { killLeftoverGroup, LOST_RUN_REASON } from "./recovery.js";
import { ReportBatcher } from "./report-batcher.js";

const UNLISTED_RUN_GRACE_MS = 5_000;
/** Ended runs' folders are swept at most this often (each sweep reads every run's state). */
const SWEEP_INTERVAL_MS = 10_000;
/**
 * A reported run's state is kept this long (at most) after its end, so that a listing the
 * server sent before it took the end is not taken for a new run.
 */
const TOMBSTONE_MS = 60_000;
/** Spare run folders go once the agent has had no run for this long. */
const SPARES_IDLE_MS = 2_000;

interface ActiveRun {
  job: RunHandle;
  shipper: LogShipper;
  /** The run's last status report, answered (serving reports wait for it: RUNNING comes first). */
  statusAcked: Promise<unknown>;
  /** Serving reports of the run, one after another. */
  servingReports: Promise<void>;
}

export interface SupervisorDeps {
  home: string;
  client: AgentClient;
  log: Logger;
  shipperFlushMs?: number;
  isolation?: Isolation;
  /** A FAILED run's folder stays this long (debugging); others go once the server has their end. */
  keepFailedRunsMs?: number;
  /** Bound of the workspace cache; absent: unbounded. */
  cacheMaxBytes?: number;
  /** Where run parts execute; default: this machine. */
  backend?: RunBackend;
}

export class RunSupervisor {
  private readonly active = new Map<string, ActiveRun>();
  /** Runs stopped because the lease ran out, with the reason they end with. */
  private readonly fenced = new Map<string, string>();
  /** When each active run reported RUNNING, on the monotonic clock (billing never exceeds it). */
  private readonly runningSinceNs = new Map<string, bigint>();
  /** Runs whose final report is on its way (not active any more, not yet accepted). */
  private readonly finalizing = new Map<string, Promise<void>>();
  private readonly reports: ReportBatcher;
  private lastSweepMs = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  private readonly backend: RunBackend;

  constructor(private readonly deps: SupervisorDeps) {
    this.backend = deps.backend ?? localBackend;
    this.reports = new ReportBatcher((entries) => deps.client.reportStatuses(entries));
  }

  activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  /** Active runs and those whose final report is still on its way: what the server must not count lost. */
  heldRunIds(): string[] {
    return [...new Set([...this.active.keys(), ...this.finalizing.keys()])];
  }

  /** The port of run `runId`'s serving job while it runs here (where tunnelled inference goes). */
  servingPortOf(runId: string): number | null {
    return this.active.get(runId)?.job.servingPort ?? null;
  }

  /**
   * The server's whole desired state for this device. The runs it takes on are active when it
   * returns, and none has started a process yet (each first awaits its workspace): the caller
   * renews its lease and starts its watchdog in between.
   */
  reconcile(assignments: Assignment[]): void {
    const listed = new Set(assignments.map((a) => a.runId));
    for (const assignment of assignments) this.reconcileOne(assignment);
    for (const [runId, run] of this.active) {
      if (!listed.has(runId)) {
        this.deps.log(`run ${runId}: no longer assigned to this device, stopping it`);
        run.job.stop("user", UNLISTED_RUN_GRACE_MS);
      }
    }
  }

  private reconcileOne(assignment: Assignment): void {
    const { runId } = assignment;
    const active = this.active.get(runId);
    if (active) {
      if (assignment.stopRequested) active.job.stop("user", assignment.stopGraceMs);
      return;
    }
    if (this.finalizing.has(runId)) return;
    let state: RunState | null;
    try {
      state = readRunState(this.deps.home, runId);
    } catch (error) {
      this.deps.log(`run ${runId}: ignored: ${(error as Error).message}`);
      return;
    }
    if (state && isFinalStatus(state.status)) {
      // The server has not taken our final report yet (or lost it): say it again.
      this.reportFinal(state);
    } else if (state) {
      killLeftoverGroup(state, this.deps.log);
      this.reportFinal(updateRunState(this.deps.home, state, { status: EdgeStatus.FAILED, reason: LOST_RUN_REASON }));
    } else if (assignment.stopRequested) {
      const killed = { ...initialRunState(runId), status: EdgeStatus.KILLED, reason: "stopped before it started" };
      this.reportFinal(writeRunState(this.deps.home, killed));
    } else {
      this.start(assignment);
    }
  }

  private start(assignment: Assignment): void {
    const { runId } = assignment;
    const { client, log, home } = this.deps;
    log(`run ${runId}: starting (rank ${assignment.rank}, gpus [${assignment.gpuIndices.join(",")}])`);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const sha = assignment.workspaceSha256;
    if (sha) holdWorkspace(home, sha);
    this.take(runId, 1, sha, (run, shipper) =>
      this.backend.start(assignment, {
        ...this.handleDeps(runId, run, shipper),
        prepareWorkspace: async (folder, sha) => {
          const cwd = await prepareWorkspace(home, folder, sha, (s) => client.openWorkspace(s));
          // Only a download can have grown the cache.
          if (sha) this.boundCache();
          return cwd;
        },
      }),
    );
  }

  /**
   * Follows again the parts a previous agent left with the backend (Slurm jobs), before the
   * first hello, so that the server hears they are alive. Answers the run ids taken back.
   */
  reattach(states: RunState[]): string[] {
    const taken: string[] = [];
    for (const state of states) {
      if (this.active.has(state.runId) || !this.backend.canReattach(state)) continue;
      this.take(state.runId, this.backend.firstLogSeq(state), null, (run, shipper) =>
        this.backend.reattach(state, this.handleDeps(state.runId, run, shipper)),
      );
      taken.push(state.runId);
    }
    return taken;
  }

  private handleDeps(runId: string, run: ActiveRun, shipper: LogShipper) {
    const { client, log, home } = this.deps;
    return {
      home,
      isolation: this.deps.isolation,
      onLine: (stream: "stdout" | "stderr", text: string) => shipper.push(stream, text),
      onStatus: (report: RunStatusReport) => {
        if (report.status === EdgeStatus.RUNNING && !this.runningSinceNs.has(runId)) {
          this.runningSinceNs.set(runId, process.hrtime.bigint());
        }
        // Queued now, in order: the final report may share RUNNING's request.
        run.statusAcked = this.send(runId, report);
      },
      // After RUNNING is answered, so the server has the run live when the endpoint turns READY.
      onServing: (report: ServingReport) => {
        const after = run.statusAcked;
        run.servingReports = run.servingReports.then(async () => {
          await after;
          try {
            await client.reportServing(runId, report);
          } catch (error) {
            log(`run ${runId}: reporting its serving port failed: ${(error as Error).message}`);
          }
        });
      },
      ackedLogSeq: () => shipper.ackedSeq,
      log,
    };
  }

  private take(
    runId: string,
    firstSeq: number,
    sha: string | null,
    open: (run: ActiveRun, shipper: LogShipper) => RunHandle,
  ): void {
    const { client, log, home } = this.deps;
    const shipper = new LogShipper({
      runId,
      send: (id, lines) => client.sendLogs(id, lines),
      log,
      flushIntervalMs: this.deps.shipperFlushMs,
      // Root's folder of the run, not the job's: the job must not rewrite its own log.
      spillFile: join(runDir(home, runId), "log-spill.jsonl"),
      firstSeq,
    });
    const run: ActiveRun = {
      job: undefined as unknown as RunHandle,
      shipper,
      statusAcked: Promise.resolve(),
      servingReports: Promise.resolve(),
    };
    this.active.set(runId, run);
    run.job = open(run, shipper);
    const finished = run.job.done.then(async (outcome: RunOutcome) => {
      if (sha) {
        releaseWorkspace(home, sha);
        this.boundCache();
      }
      await shipper.drained();
      shipper.close();
      await run.servingReports;
      if (outcome.detached) {
        // It lives on without us; its state keeps what the next agent needs to follow it.
        await run.statusAcked;
        this.active.delete(runId);
        this.runningSinceNs.delete(runId);
        return;
      }
      let state = readRunState(home, runId) ?? { ...initialRunState(runId), ...outcome };
      const fencedReason = this.fenced.get(runId);
      if (fencedReason !== undefined) state = updateRunState(home, state, { status: EdgeStatus.FAILED, reason: fencedReason });
      const since = this.runningSinceNs.get(runId);
      const runtimeMs = since === undefined ? null : Math.round(Number(process.hrtime.bigint() - since) / 1e6);
      this.active.delete(runId);
      this.fenced.delete(runId);
      this.runningSinceNs.delete(runId);
      if (this.active.size === 0 && !this.idleTimer) {
        this.idleTimer = setTimeout(() => {
          this.idleTimer = null;
          if (this.active.size === 0) dropSpareFolders();
        }, SPARES_IDLE_MS);
        this.idleTimer.unref();
      }
      await this.sendFinal(state, runtimeMs);
    });
    this.trackFinal(runId, finished);
  }

  /** Re-sends the final status of an ended run until the server accepts it. */
  reportFinal(state: RunState): void {
    if (this.finalizing.has(state.runId) || this.active.has(state.runId)) return;
    this.trackFinal(state.runId, this.sendFinal(state));
  }

  private trackFinal(runId: string, promise: Promise<void>): void {
    const tracked = promise
      .catch((error: Error) => this.deps.log(`run ${runId}: ${error.message}`))
      .finally(() => this.finalizing.delete(runId));
    this.finalizing.set(runId, tracked);
  }

  private async sendFinal(state: RunState, runtimeMs: number | null = null): Promise<void> {
    const report: RunStatusReport = { status: state.status, exitCode: state.exitCode, reason: state.reason, runtimeMs };
    if (await this.send(state.runId, report)) {
      const latest = readRunState(this.deps.home, state.runId) ?? state;
      updateRunState(this.deps.home, latest, { reported: true });
      // The server has the end: the job's files go unless it failed (kept to debug). Its state
      // stays a while as a tombstone, so a late listing of the run is not taken for a new run.
      if (state.status !== EdgeStatus.FAILED) this.removeJobFolder(state.runId);
      else this.removeLater(state.runId);
      if (Date.now() - this.lastSweepMs >= SWEEP_INTERVAL_MS) this.sweepFolders();
    }
  }

  /** A FAILED run's folder, after keepFailedRunsMs (a restarted agent's sweep catches what a stop left). */
  private removeLater(runId: string): void {
    const keepMs = this.deps.keepFailedRunsMs ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(keepMs)) return;
    if (keepMs <= 0) {
      this.removeJobFolder(runId);
      return;
    }
    setTimeout(
      () => {
        if (!this.active.has(runId)) this.removeJobFolder(runId);
      },
      Math.min(keepMs, 2 ** 31 - 1),
    ).unref();
  }

  private removeJobFolder(runId: string): void {
    // Usually gone already (the run's end kept it as a spare or removed it): a recursive rm of
    // a missing path builds an error with its stack, where a look does not.
    for (const dir of new Set([
      runDir(this.deps.home, runId),
      join(this.deps.isolation?.jobsRoot ?? runsDir(this.deps.home), runId),
    ]))
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }

  /** Removes the folders of ended, reported runs older than keepFailedRunsMs, and old tombstones. */
  sweepFolders(): void {
    const keepMs = this.deps.keepFailedRunsMs ?? Number.POSITIVE_INFINITY;
    const now = Date.now();
    this.lastSweepMs = now;
    const tombstoneMs = Math.min(keepMs, TOMBSTONE_MS);
    forgetRunStates(
      this.deps.home,
      (state) =>
        state.reported &&
        isFinalStatus(state.status) &&
        now - state.updatedTime >= tombstoneMs &&
        !this.active.has(state.runId) &&
        !this.finalizing.has(state.runId),
    );
    if (!Number.isFinite(keepMs)) return;
    const busy = (runId: string) => {
      if (this.active.has(runId) || this.finalizing.has(runId)) return true;
      try {
        const state = readRunState(this.deps.home, runId);
        return state !== null && !state.reported;
      } catch {
        return false;
      }
    };
    const removed = sweepJobFolders(runsDir(this.deps.home), keepMs, busy);
    const jobsRoot = this.deps.isolation?.jobsRoot;
    if (jobsRoot && jobsRoot !== runsDir(this.deps.home)) sweepJobFolders(jobsRoot, keepMs, busy);
    if (removed.length > 0) this.deps.log(`removed the folders of ${removed.length} ended run(s) kept for debugging`);
  }

  private boundCache(): void {
    if (this.deps.cacheMaxBytes === undefined) return;
    const evicted = evictWorkspaceCache(this.deps.home, this.deps.cacheMaxBytes);
    if (evicted.length > 0) this.deps.log(`workspace cache over its bound: evicted ${evicted.length} archive(s)`);
  }

  /** True when the server has the report (or refused it for good: resending would not help). */
  private async send(runId: string, report: RunStatusReport): Promise<boolean> {
    try {
      const outcome = await this.reports.report({ runId, ...report });
      if (outcome.status >= 400) this.deps.log(`run ${runId}: the server refused status ${report.status}: ${outcome.error}`);
      return true;
    } catch (error) {
      if (error instanceof AgentStoppedError) return false;
      if (error instanceof FedmlError && error.httpStatus !== undefined && error.httpStatus < 500) {
        this.deps.log(`run ${runId}: the server refused status ${report.status}: ${error.message}`);
        return true;
      }
      this.deps.log(`run ${runId}: reporting ${report.status} failed: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * The lease ran out: stop every active run now (SIGTERM, SIGKILL after graceMs), before the
   * server may declare them lost and place them elsewhere. They end FAILED with `reason`.
   */
  fence(graceMs: number, reason: string): number {
    let stopped = 0;
    for (const [runId, run] of this.active) {
      if (this.fenced.has(runId)) continue;
      this.fenced.set(runId, reason);
      this.deps.log(`run ${runId}: ${reason}: stopping it`);
      run.job.stop("agent", graceMs);
      stopped++;
    }
    return stopped;
  }

  /**
   * The agent is going away: local runs stop and end FAILED "agent stopped"; batch jobs
   * (Slurm) go on and a restarted agent follows them again.
   */
  stopAll(graceMs: number): void {
    for (const run of this.active.values()) {
      if (run.job.detach) run.job.detach();
      else run.job.stop("agent", graceMs);
    }
  }

  /** Resolves when no run is active and no final report is pending. */
  async settled(): Promise<void> {
    while (this.finalizing.size > 0) await Promise.all(this.finalizing.values());
  }
}
