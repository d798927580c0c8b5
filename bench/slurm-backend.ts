/**
 * Section 8: launch -> job start through our Slurm backend (a server, an agent bound with
 * --slurm on partition `fedml`) next to plain `sbatch` of the same one-line job on the same
 * partition, one at a time, alternating. Both are timed from just before the request (the
 * launch's POST, the sbatch command) to the job's first act: its own clock, written by bash.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { followToFinished, launch, startCluster } from "./lib/cluster.js";
import { sleep } from "./lib/proc.js";
import type { Slurm } from "./lib/slurm.js";
import { type Quantiles, nowMs, quantiles } from "./lib/stats.js";

const run = promisify(execFile);
const PARTITION = "fedml";

export interface SlurmBackendResult {
  launches: number;
  partition: string;
  oursToStartMs: Quantiles;
  sbatchToStartMs: Quantiles;
  /** Ours over plain sbatch at the median, in percent (goal: within 10). */
  overheadP50Pct: number;
}

async function queueEmpty(): Promise<boolean> {
  const { stdout } = await run("squeue", ["-h", "-p", PARTITION, "-o", "%i"]);
  return stdout.trim() === "";
}

export async function slurmBackend(launches: number, slurm: Slurm, log: (s: string) => void): Promise<SlurmBackendResult> {
  const stamps = join(slurm.workDir, "backend-stamps");
  mkdirSync(stamps, { recursive: true });
  const script = join(stamps, "job.sh");
  writeFileSync(script, `#!/bin/bash\necho "$EPOCHREALTIME" > ${stamps}/sbatch-$SLURM_JOB_ID\n`);
  const cluster = await startCluster(1, ["--slurm", "--partition", PARTITION]);
  const yaml = `job: echo "$EPOCHREALTIME" > ${stamps}/ours-$FEDML_CURRENT_RUN_ID\n`;
  const ours: number[] = [];
  const plain: number[] = [];
  try {
    log(`  ${launches} launches through the Slurm backend and ${launches} plain sbatch, alternating, on partition ${PARTITION}`);
    const oursOnce = async () => {
      while (!(await queueEmpty())) await sleep(20);
      const sent = nowMs();
      const runId = await launch(cluster, yaml);
      await followToFinished(cluster, runId);
      return Number(readFileSync(join(stamps, `ours-${runId}`), "utf8").trim()) * 1000 - sent;
    };
    const plainOnce = async () => {
      while (!(await queueEmpty())) await sleep(20);
      const sent = nowMs();
      const { stdout } = await run("sbatch", ["--parsable", "-p", PARTITION, "-o", "/dev/null", script]);
      const id = stdout.trim().split(";")[0];
      while (!(await queueEmpty())) await sleep(20);
      return Number(readFileSync(join(stamps, `sbatch-${id}`), "utf8").trim()) * 1000 - sent;
    };
    await oursOnce(); // warm-up: the agent's first sbatch, caches
    await plainOnce();
    for (let i = 0; i < launches; i++) {
      ours.push(await oursOnce());
      plain.push(await plainOnce());
    }
  } finally {
    await cluster.stop();
  }
  const o = quantiles(ours);
  const p = quantiles(plain);
  return {
    launches,
    partition: PARTITION,
    oursToStartMs: o,
    sbatchToStartMs: p,
    overheadP50Pct: ((o.p50 - p.p50) / p.p50) * 100,
  };
}
