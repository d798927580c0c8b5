/** The single-node Slurm cluster of bench/slurm-up.sh, driven through its own CLI. */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sleep } from "./proc.js";
import { nowMs, pool } from "./stats.js";

const run = promisify(execFile);
const upScript = fileURLToPath(new URL("../slurm-up.sh", import.meta.url));

export interface Slurm {
  workDir: string;
}

/** Starts (or finds) the cluster; answers why not when it cannot. */
export async function slurmUp(): Promise<{ slurm: Slurm } | { skipped: string }> {
  try {
    await run("bash", [upScript], { timeout: 300_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const line = (e.stderr || e.message).trim().split("\n").pop() ?? "unknown error";
    return { skipped: line };
  }
  const workDir = join(tmpdir(), `fedml-bench-slurm-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  return { slurm: { workDir } };
}

async function queueEmpty(): Promise<boolean> {
  const { stdout } = await run("squeue", ["-h", "-o", "%i"]);
  return stdout.trim() === "";
}

async function waitForEmptyQueue(): Promise<void> {
  while (!(await queueEmpty())) await sleep(100);
}

const sbatch = (args: string[]) => run("sbatch", ["--parsable", "-o", "/dev/null", ...args]);

/** `sbatch --wrap true` N times, from the first submission until the queue is empty. */
export async function slurmThroughput(_slurm: Slurm, jobs: number): Promise<number> {
  await waitForEmptyQueue();
  const started = nowMs();
  await pool(jobs, 4, async () => {
    await sbatch(["--wrap", "true"]);
  });
  await waitForEmptyQueue();
  return jobs / ((nowMs() - started) / 1000);
}

/**
 * One job at a time on the idle cluster: submission returning -> the job's first line
 * (a timestamp it writes with bash's $EPOCHREALTIME) and -> gone from the queue.
 */
export async function slurmLatency(slurm: Slurm, jobs: number): Promise<{ start: number[]; done: number[] }> {
  const dir = join(slurm.workDir, "latency");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const script = join(dir, "job.sh");
  writeFileSync(script, `#!/bin/bash\necho "$EPOCHREALTIME" > ${dir}/start-$SLURM_JOB_ID\n`);
  await waitForEmptyQueue();
  const start: number[] = [];
  const done: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const { stdout } = await sbatch([script]);
    const submitted = nowMs();
    const id = stdout.trim().split(";")[0];
    while (!(await queueEmpty())) await sleep(2);
    done.push(nowMs() - submitted);
    const stamp = readFileSync(join(dir, `start-${id}`), "utf8").trim();
    start.push(Number(stamp) * 1000 - submitted);
  }
  return { start, done };
}
