/** Section 2: launch latency on a warm agent, ours and Slurm's, one job at a time. */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { followToFinished, launch, startCluster } from "./lib/cluster.js";
import { type Slurm, slurmLatency } from "./lib/slurm.js";
import { type Quantiles, nowMs, quantiles } from "./lib/stats.js";

export interface LatencyResult {
  launches: number;
  oursToStartMs: Quantiles;
  oursToFinishedMs: Quantiles;
  slurmToStartMs: Quantiles | null;
  slurmToDoneMs: Quantiles | null;
}

export async function latency(
  launches: number,
  slurmLaunches: number,
  slurm: Slurm | null,
  log: (s: string) => void,
): Promise<LatencyResult> {
  const cluster = await startCluster(1);
  const stamps = join(cluster.root, "stamps");
  mkdirSync(stamps);
  // The job's first act: its own start time, with bash's builtin clock (no extra fork).
  const yaml = `job: echo "$EPOCHREALTIME" > ${stamps}/start-$FEDML_CURRENT_RUN_ID\n`;
  const toStart: number[] = [];
  const toFinished: number[] = [];
  try {
    log(`  ours: ${launches} launches one at a time on a warm agent`);
    await launch(cluster, yaml); // warm-up, not counted
    for (let i = 0; i <= launches; i++) {
      const runId = await launch(cluster, yaml);
      const returned = nowMs();
      await followToFinished(cluster, runId);
      const finished = nowMs();
      if (i === 0) continue; // the first one after the warm-up still pays for cold caches
      toFinished.push(finished - returned);
      toStart.push(Number(readFileSync(join(stamps, `start-${runId}`), "utf8").trim()) * 1000 - returned);
    }
  } finally {
    await cluster.stop();
  }
  let slurmResult: { start: number[]; done: number[] } | null = null;
  if (slurm) {
    log(`  slurm: ${slurmLaunches} submissions one at a time on the idle cluster`);
    slurmResult = await slurmLatency(slurm, slurmLaunches);
  }
  return {
    launches,
    oursToStartMs: quantiles(toStart),
    oursToFinishedMs: quantiles(toFinished),
    slurmToStartMs: slurmResult ? quantiles(slurmResult.start) : null,
    slurmToDoneMs: slurmResult ? quantiles(slurmResult.done) : null,
  };
}
