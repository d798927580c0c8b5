/**
 * The agent daemon: one per home. Recovers what a previous agent left, says hello, then
 * long-polls its assignments (which is also its heartbeat) and reconciles its runs with them
 * until told to stop; then it stops its runs, reports them and exits.
 */
import { FedmlError, ResultCode } from "@fedml/core/contract";
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, sleep } from "./backoff.js";
import { AgentClient, AgentStoppedError } from "./client.js";
import { DEFAULT_CACHE_MAX_BYTES, DEFAULT_KEEP_FAILED_RUNS_MS, readAgentConfig } from "./config.js";
import { AgentLease, ensureLeaseWatchdog } from "./daemon/lease.js";
import { monotonicNs } from "./daemon/lease-file.js";
import { acquirePidFile, releasePidFile } from "./daemon/pid-file.js";
import { recoverLeftoverRuns } from "./daemon/recovery.js";
import { RunSupervisor } from "./daemon/supervisor.js";
import { type DetectOptions, detectFacts } from "./facts/index.js";
import { type Logger, consoleLogger } from "./log.js";
import { setUpIsolation, sweepLeftoverCgroups, tearDownIsolation } from "./runner/isolation/index.js";
import { keepTunnelOpen } from "./tunnel/tunnel.js";
import { type RunBackend, localBackend } from "./runner/backend.js";
import { SlurmBackend } from "./slurm/backend.js";

export interface RunAgentOptions {
  home: string;
  /** Aborting it shuts the agent down (SIGTERM/SIGINT in `bin.ts run`). */
  signal?: AbortSignal;
  log?: Logger;
  backoff?: BackoffOptions;
  detect?: DetectOptions;
  /** Longest assignment long-poll; also bounded by a third of the server's offlineAfterMs. */
  maxPollWaitMs?: number;
  /** On shutdown: SIGTERM to SIGKILL for the runs, then how long final reports may take. */
  stopGraceMs?: number;
  shutdownFlushMs?: number;
}

const DEFAULT_POLL_WAIT_MS = 20_000;
const MIN_POLL_WAIT_MS = 1_000;
const DEFAULT_STOP_GRACE_MS = 3_000;
const DEFAULT_SHUTDOWN_FLUSH_MS = 5_000;
/** How often a Slurm device re-reads its partition (free GPUs, nodes) and tells the server of a change. */
const SLURM_FACTS_MS = Number(process.env.FEDML_SLURM_FACTS_MS) || 10_000;

export async function runAgent(options: RunAgentOptions): Promise<void> {
  const { home } = options;
  const log = options.log ?? consoleLogger;
  const signal = options.signal ?? new AbortController().signal;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const config = readAgentConfig(home);
  if (!config) throw new FedmlError(ResultCode.ERROR, `no device is bound in ${home}: bind this machine first`);
  const isolation = setUpIsolation(home, {
    jobUser: config.jobUser ?? "pool",
    jobsDir: config.jobsDir ?? null,
    containerRuntime: config.containerRuntime ?? null,
    cgroupRoot: config.cgroupRoot ?? null,
  });
  const slurm = config.slurm ? new SlurmBackend(home, config.slurm) : null;
  const backend: RunBackend = slurm ?? localBackend;
  acquirePidFile(home);

  // Ends the last retries once the shutdown's flush time is over.
  const hardStop = new AbortController();
  let lostServer = false;
  const client = new AgentClient({
    serverUrl: config.serverUrl,
    deviceToken: config.deviceToken,
    signal: hardStop.signal,
    backoff,
    log,
    onConnectionError: () => {
      lostServer = true;
    },
  });
  const lease = new AgentLease(home);
  const guard = () => {
    lease.publish();
    if (supervisor.activeRunIds().length > 0) ensureLeaseWatchdog(home);
  };
  const supervisor = new RunSupervisor({
    home,
    client,
    log,
    isolation,
    keepFailedRunsMs: config.keepFailedRunsMs ?? DEFAULT_KEEP_FAILED_RUNS_MS,
    cacheMaxBytes: config.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES,
    backend,
  });
  const tunnelStop = new AbortController();
  let tunnel: Promise<void> | undefined;
  let factsTimer: NodeJS.Timeout | undefined;
  // Fencing: a lease that ran out stops the jobs, whatever the poll loop is stuck in.
  let fencedSinceRenewal = false;
  const fenceCheck = setInterval(() => {
    if (fencedSinceRenewal || !lease.expired()) return;
    const seconds = Math.round((lease.leaseMs ?? 0) / 1000);
    const stopped = supervisor.fence(lease.killGraceMs, `lease expired: the server was not reached for ${seconds} s`);
    if (stopped > 0) log(`lease expired: stopped ${stopped} run(s)`);
    fencedSinceRenewal = true;
  }, 200);
  fenceCheck.unref();
  log(`agent ${process.pid} starting for device ${config.deviceId} of ${config.serverUrl}`);
  for (const note of isolation.notes) log(note);

  try {
    const { unreported: leftovers, reattachable } = recoverLeftoverRuns(home, log, (s) => backend.canReattach(s));
    const reattached = supervisor.reattach(reattachable);
    if (reattached.length > 0) {
      log(`following ${reattached.length} Slurm job(s) of the previous agent again`);
      guard();
    }
    // The previous agent's runs are over (recovery ended them): whatever is left in their cgroups goes.
    sweepLeftoverCgroups(isolation.cgroups, () => false);
    supervisor.sweepFolders();
    let facts = slurm ? await slurm.facts(config) : await detectFacts(config, options.detect, isolation.container);
    log(
      facts.gpuError
        ? `no GPU detected: ${facts.gpuError}`
        : `${facts.gpus.length} GPU(s)${facts.simulated ? " (simulated)" : ""}: ${facts.gpus.map((g) => g.name).join(", ") || "none"}${describeBusy(facts.gpus)}`,
    );
    const hello = async () => {
      lostServer = false;
      // A run whose final report is on its way is held too (a followed Slurm job may end
      // before this hello): the server must not fail it as lost.
      const answer = await client.hello({ facts, activeRunIds: supervisor.heldRunIds() }, signal);
      lease.setTerms(
        answer.leaseMs ? { leaseMs: answer.leaseMs, killGraceMs: answer.leaseKillGraceMs ?? DEFAULT_STOP_GRACE_MS } : null,
      );
      log(
        `hello accepted by ${client.serverUrl} (offline after ${answer.offlineAfterMs} ms of silence${answer.leaseMs ? `, lease ${answer.leaseMs} ms` : ""})`,
      );
      return answer.offlineAfterMs;
    };

    let offlineAfterMs = await hello();
    // Inference for this device's serving jobs comes down a connection the agent opens itself.
    tunnel = keepTunnelOpen({
      serverUrl: config.serverUrl,
      deviceToken: config.deviceToken,
      portOf: (runId) => supervisor.servingPortOf(runId),
      log,
      signal: tunnelStop.signal,
      backoff,
    });
    for (const state of leftovers) supervisor.reportFinal(state);
    if (slurm) {
      // Other users' jobs come and go, nodes drain and return: the server's view follows.
      factsTimer = setInterval(() => {
        slurm
          .facts(config)
          .then(async (next) => {
            if (JSON.stringify(next) === JSON.stringify(facts)) return;
            facts = next;
            await client.hello({ facts, activeRunIds: supervisor.heldRunIds() }, signal);
          })
          .catch((error: Error) => {
            if (!signal.aborted) log(`refreshing the Slurm partition's facts failed: ${error.message}`);
          });
      }, SLURM_FACTS_MS);
      factsTimer.unref();
    }
    let since = 0;
    let failures = 0;
    while (!signal.aborted) {
      // Polls renew the lease: several must fit in it even when one is slow.
      const leaseCap = lease.leaseMs === null ? Number.POSITIVE_INFINITY : Math.floor(lease.leaseMs / 4);
      const waitMs = Math.min(
        leaseCap,
        Math.max(MIN_POLL_WAIT_MS, Math.min(options.maxPollWaitMs ?? DEFAULT_POLL_WAIT_MS, Math.floor(offlineAfterMs / 3))),
      );
      try {
        const sentAtNs = monotonicNs();
        const answer = await client.assignments(since, waitMs, signal);
        lease.renew(sentAtNs);
        fencedSinceRenewal = false;
        if (lostServer) {
          guard();
          // The server may have restarted: it must learn again which runs are alive here.
          offlineAfterMs = await hello();
          since = 0;
          continue;
        }
        failures = 0;
        since = answer.version;
        supervisor.reconcile(answer.assignments);
        // The renewal, and a watchdog for the runs just taken on, before their processes start.
        guard();
      } catch (error) {
        if (error instanceof AgentStoppedError || signal.aborted) break;
        if (error instanceof FedmlError && (error.httpStatus === 401 || error.httpStatus === 403)) {
          throw new FedmlError(error.resultCode, `the server no longer accepts this device (${error.message}): bind it again`);
        }
        log(`polling assignments failed: ${(error as Error).message}`);
        await sleep(backoffDelay(failures++, backoff), signal);
      }
    }
  } catch (error) {
    if (!(error instanceof AgentStoppedError)) throw error;
  } finally {
    clearInterval(fenceCheck);
    clearInterval(factsTimer);
    log("agent stopping: ending its runs");
    supervisor.stopAll(options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    const flushDeadline = (options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS) + (options.shutdownFlushMs ?? DEFAULT_SHUTDOWN_FLUSH_MS);
    const settledInTime = new AbortController();
    await Promise.race([supervisor.settled().then(() => settledInTime.abort()), sleep(flushDeadline, settledInTime.signal)]);
    hardStop.abort();
    tunnelStop.abort();
    await tunnel;
    await supervisor.settled();
    if (supervisor.activeRunIds().length === 0) lease.withdraw();
    backend.close();
    tearDownIsolation(isolation);
    releasePidFile(home);
    log("agent stopped");
  }
}

function describeBusy(gpus: { busyElsewhere?: boolean }[]): string {
  const busy = gpus.filter((g) => g.busyElsewhere).length;
  return busy > 0 ? ` (${busy} held by other Slurm jobs)` : "";
}
