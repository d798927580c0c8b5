/** Section 1: trivial jobs per second through us, through Slurm, and bare fork/exec. */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { type Cluster, launch, listRuns, startCluster } from "./lib/cluster.js";
import { cpuSeconds, sleep } from "./lib/proc.js";
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
  forkExecPerSec: number;
  /** Ours divided by the reference: above 1 is faster. */
  ratioToSlurm: number | null;
  ratioToForkExec: number;
  /**
   * CPU milliseconds per job during our run, from /proc/<pid>/stat of each process: where the
   * cores went. agents: the agent processes themselves (spawning included); jobs: their reaped
   * children, i.e. each job's own fork/exec and run; harness: this process, the load generator.
   */
  cpuMsPerJob?: { server: number; agents: number; jobs: number; harness: number };
  /** The machine's 1-minute load average around our run: other work on the cores skews every figure. */
  loadAverage?: { before: number; after: number };
}

/** From the first launch call to the last FINISHED (the server's own end time of each run). */
async function oursThroughput(cluster: Cluster, jobs: number): Promise<{ perSec: number; failed: number; cpu: CpuSplit }> {
  const before = cpuSplit(cluster);
  const started = Date.now();
  await pool(jobs, 8, async () => {
    await launch(cluster, TRIVIAL_JOB);
  });
  for (;;) {
    const runs = await listRuns(cluster);
    if (runs.length >= jobs && runs.every((r) => TERMINAL.has(r.status))) {
      const lastEnd = Math.max(...runs.map((r) => r.endedTime ?? 0));
      const after = cpuSplit(cluster);
      const perJob = (key: keyof CpuSplit) => ((after[key] - before[key]) * 1000) / jobs;
      const cpu = { server: perJob("server"), agents: perJob("agents"), jobs: perJob("jobs"), harness: perJob("harness") };
      return { cpu, perSec: jobs / ((lastEnd - started) / 1000), failed: runs.filter((r) => r.status !== "FINISHED").length };
    }
    await sleep(250);
  }
}

interface CpuSplit {
  server: number;
  agents: number;
  jobs: number;
  harness: number;
}

function cpuSplit(cluster: Cluster): CpuSplit {
  const agents = cluster.agents.map((a) => cpuSeconds(a.child.pid as number));
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
  const cluster = await startCluster(agents, ["--max-jobs", "8"], cpuProfDir);
  let ours: { perSec: number; failed: number; cpu: CpuSplit };
  const loadBefore = loadavg()[0];
  try {
    log(`  ours: ${jobs} jobs through the server and ${agents} agents`);
    ours = await oursThroughput(cluster, jobs);
  } finally {
    await cluster.stop();
  }
  const loadAfter = loadavg()[0];
  log(`  fork/exec: ${jobs} x sh -c true through a pool of ${agents}`);
  const forkExec = await forkExecRate(jobs, agents);
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
    ratioToSlurm: slurmRate ? ours.perSec / slurmRate : null,
    ratioToForkExec: ours.perSec / forkExec,
    cpuMsPerJob: ours.cpu,
    loadAverage: { before: loadBefore, after: loadAfter },
  };
}
