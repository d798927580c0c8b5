/** Section 1: trivial jobs per second through us, through Slurm, and bare fork/exec. */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { type Cluster, listRuns, startCluster } from "./lib/cluster.js";
import { LeanLauncher } from "./lib/lean-launcher.js";
import { metricValue, scrapeMetrics } from "./lib/metrics.js";
import { cpuSeconds, cpuSecondsWithHelpers, sleep } from "./lib/proc.js";
import { type Slurm, slurmThroughput } from "./lib/slurm.js";
import { nowMs, pool } from "./lib/stats.js";

const TRIVIAL_JOB = 'job: "true"\n';
const TERMINAL = new Set(["FINISHED", "FAILED", "KILLED"]);

export interface ThroughputResult {
  jobs: number;
  agents: number;
  oursJobsPerSec: number;
  oursFailed: number;
  slurmJobs: number | null;
  slurmJobsPerSec: number | null;
  /** The mean of forkExecAround: the reference our rate is divided by. */
  forkExecPerSec: number;
  /**
   * The bare rate measured just before our run and again after the warm one: the machine's
   * speed drifts (a shared VM's host), and a reference taken on one side only can land in a
   * slow or a fast stretch that ours did not.
   */
  forkExecAround?: { before: number; after: number };
  /** Ours divided by the reference: above 1 is faster. */
  ratioToSlurm: number | null;
  ratioToForkExec: number;
  /**
   * CPU milliseconds per job during our run, from /proc/<pid>/stat of each process: where the
   * cores went. agents: the agent processes and their live helpers (the lease
   * watchdog); jobs: the reaped children of both, i.e. each job's own fork/exec and run; harness: this process, the load generator.
   */
  cpuMsPerJob?: { server: number; agents: number; jobs: number; harness: number };
  /** HTTP requests the server answered per job during our run, by route (its /metrics), e.g. "POST /api/v1/agent/reports". */
  requestsPerJob?: Record<string, number>;
  /** SQL statements the server ran per job during our run (its /metrics), transaction control included. */
  sqlStatementsPerJob?: number;
  /** The machine's 1-minute load average around our run: other work on the cores skews every figure. */
  loadAverage?: { before: number; after: number };
  /**
   * As many jobs again straight after, through the same server and agents: the figures of a
   * warm cluster, without what a fresh one pays once (V8 compiling and optimising the job
   * path, each agent's lease watchdog starting with its first run).
   */
  warm?: { jobsPerSec: number; failed: number; ratioToForkExec: number; cpuMsPerJob: CpuSplit };
}

/** From the first launch call to the last FINISHED (the server's own end time of each run). */
async function oursThroughput(cluster: Cluster, launcher: LeanLauncher, jobs: number): Promise<OursResult> {
  const requestsBefore = await requestCounts(cluster);
  const before = cpuSplit(cluster);
  const started = Date.now();
  let lastLaunched = "";
  await pool(jobs, 8, async () => {
    lastLaunched = await launcher.launch(TRIVIAL_JOB);
  });
  // Listing every run each poll would cost the server (and this process) more than the jobs do:
  // wait on the last launched run alone, then check all of them.
  while (!TERMINAL.has((await listRuns(cluster, lastLaunched))[0]?.status ?? "")) await sleep(100);
  for (;;) {
    const runs = await listRuns(cluster);
    if (runs.length >= jobs && runs.every((r) => TERMINAL.has(r.status))) {
      const lastEnd = Math.max(...runs.map((r) => r.endedTime ?? 0));
      const after = cpuSplit(cluster);
      const perJob = (key: keyof CpuSplit) => ((after[key] - before[key]) * 1000) / jobs;
      const cpu = { server: perJob("server"), agents: perJob("agents"), jobs: perJob("jobs"), harness: perJob("harness") };
      const requestsAfter = await requestCounts(cluster);
      const requests: Record<string, number> = {};
      const statements = (requestsAfter.get(STATEMENTS) ?? 0) - (requestsBefore.get(STATEMENTS) ?? 0);
      requestsAfter.delete(STATEMENTS);
      for (const [route, count] of requestsAfter) {
        const delta = count - (requestsBefore.get(route) ?? 0);
        if (delta > 0) requests[route] = delta / jobs;
      }
      return {
        cpu,
        requests,
        statementsPerJob: statements / jobs,
        perSec: jobs / ((lastEnd - started) / 1000),
        failed: runs.filter((r) => r.status !== "FINISHED").length,
      };
    }
    await sleep(250);
  }
}

interface OursResult {
  perSec: number;
  failed: number;
  cpu: CpuSplit;
  requests: Record<string, number>;
  statementsPerJob: number;
}

/** The key requestCounts files the server's SQL statement count under. */
const STATEMENTS = "sql statements";

/** Requests answered so far by "METHOD route", from the server's request-duration histogram. */
async function requestCounts(cluster: Cluster): Promise<Map<string, number>> {
  const samples = await scrapeMetrics(cluster.server.url);
  const counts = new Map<string, number>();
  for (const { labels, value } of samples.filter((s) => s.name === "fedml_http_request_duration_seconds_count")) {
    const { method, route } = labels;
    if (!method || !route || route === "/metrics") continue;
    const key = `${method} ${route}`;
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  const statements = metricValue(samples, "fedml_db_statements_total");
  if (!Number.isNaN(statements)) counts.set(STATEMENTS, statements);
  return counts;
}

interface CpuSplit {
  server: number;
  agents: number;
  jobs: number;
  harness: number;
}

function cpuSplit(cluster: Cluster): CpuSplit {
  const agents = cluster.agents.map((a) => cpuSecondsWithHelpers(a.child.pid as number));
  const own = process.cpuUsage();
  return {
    server: cpuSeconds(cluster.server.child.pid as number).self,
    agents: agents.reduce((sum, a) => sum + a.self, 0),
    jobs: agents.reduce((sum, a) => sum + a.children, 0),
    harness: (own.user + own.system) / 1e6,
  };
}

/** `sh -c true` through a pool as wide as our agents: what the machine itself allows. */
export async function forkExecRate(count: number, width: number): Promise<number> {
  const started = nowMs();
  await pool(
    count,
    width,
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn("sh", ["-c", "true"], { stdio: "ignore" });
        child.once("error", reject);
        child.once("exit", () => resolve());
      }),
  );
  return count / ((nowMs() - started) / 1000);
}

export async function throughput(
  jobs: number,
  slurmJobs: number,
  slurm: Slurm | null,
  log: (s: string) => void,
  /** `--cpu-prof DIR`: the server and agents write V8 CPU profiles there (read them in Chrome's DevTools). */
  cpuProfDir?: string,
): Promise<ThroughputResult> {
  const agents = 8;
  log(`  fork/exec: ${jobs} x sh -c true through a pool of ${agents}, before ours`);
  const forkExecBefore = await forkExecRate(jobs, agents);
  const cluster = await startCluster(agents, ["--max-jobs", "8"], cpuProfDir);
  const launcher = new LeanLauncher(cluster);
  let ours: OursResult;
  let warm: OursResult;
  const loadBefore = loadavg()[0];
  let loadAfter: number;
  try {
    log(`  ours: ${jobs} jobs through the server and ${agents} agents`);
    ours = await oursThroughput(cluster, launcher, jobs);
    loadAfter = loadavg()[0];
    log(`  ours, warm: ${jobs} jobs more through the same server and agents`);
    warm = await oursThroughput(cluster, launcher, jobs);
  } finally {
    launcher.close();
    await cluster.stop();
  }
  log(`  fork/exec: ${jobs} x sh -c true through a pool of ${agents}, after ours`);
  const forkExecAfter = await forkExecRate(jobs, agents);
  const forkExec = (forkExecBefore + forkExecAfter) / 2;
  let slurmRate: number | null = null;
  if (slurm) {
    log(`  slurm: ${slurmJobs} x sbatch --wrap true`);
    slurmRate = await slurmThroughput(slurm, slurmJobs);
  }
  return {
    jobs,
    agents,
    oursJobsPerSec: ours.perSec,
    oursFailed: ours.failed,
    slurmJobs: slurm ? slurmJobs : null,
    slurmJobsPerSec: slurmRate,
    forkExecPerSec: forkExec,
    forkExecAround: { before: forkExecBefore, after: forkExecAfter },
    ratioToSlurm: slurmRate ? ours.perSec / slurmRate : null,
    ratioToForkExec: ours.perSec / forkExec,
    cpuMsPerJob: ours.cpu,
    requestsPerJob: ours.requests,
    sqlStatementsPerJob: ours.statementsPerJob,
    loadAverage: { before: loadBefore, after: loadAfter },
    warm: { jobsPerSec: warm.perSec, failed: warm.failed, ratioToForkExec: warm.perSec / forkExec, cpuMsPerJob: warm.cpu },
  };
}
