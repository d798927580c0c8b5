/**
 * `npm run bench [-- --quick] [-- --slurm-jobs N --slurm-launches N]`: every figure of the issue next to its
 * reference from the same run, written to bench/results/latest.{md,json}.
 * Sections: throughput, latency, scheduler, logs, memory.
 * `--only SECTION` runs one section and writes results/SECTION.json instead of latest.*;
 * `--no-slurm` leaves the Slurm column empty; `--jobs N` sets the throughput job count.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { latency } from "./latency.js";
import { slurmUp } from "./lib/slurm.js";
import { logs } from "./logs.js";
import { memory } from "./memory.js";
import { type BenchResults, toMarkdown } from "./report.js";
import { scheduler } from "./scheduler.js";
import { throughput } from "./throughput.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    "slurm-jobs": { type: "string" },
    "slurm-launches": { type: "string" },
    only: { type: "string" },
    "no-slurm": { type: "boolean" },
    jobs: { type: "string" },
  },
  strict: true,
});
const quick = values.quick ?? false;

// Full sizes are the issue's; --quick keeps the whole run under two minutes.
const size = quick
  ? { jobs: 200, slurmJobs: 30, launches: 50, slurmLaunches: 10, devices: 10_000, queued: 100_000, matchBudgetSec: 3, logLines: 300_000, httpLines: 50_000, pages: 100, agents: 1000, heartbeatSec: 12 }
  : { jobs: 1000, slurmJobs: 1000, launches: 200, slurmLaunches: 200, devices: 10_000, queued: 100_000, matchBudgetSec: 20, logLines: 10_000_000, httpLines: 200_000, pages: 500, agents: 1000, heartbeatSec: 25 };

// Slurm starts batch jobs on a one-second tick, so its 1,000 jobs alone take minutes.
if (values["slurm-jobs"]) size.slurmJobs = Number(values["slurm-jobs"]);
if (values["slurm-launches"]) size.slurmLaunches = Number(values["slurm-launches"]);
if (values.jobs) size.jobs = Number(values.jobs);
const SECTIONS = ["throughput", "latency", "scheduler", "logs", "memory"] as const;
type Section = (typeof SECTIONS)[number];
const only = values.only as Section | undefined;
if (only !== undefined && !SECTIONS.includes(only)) {
  process.stderr.write(`bench: --only takes one of ${SECTIONS.join(", ")}, got "${only}"\n`);
  process.exit(2);
}

const log = (line: string) => process.stdout.write(`${line}\n`);

function slurmVersion(): string | null {
  try {
    return execFileSync("sinfo", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

/** One section alone: its figures as JSON in results/SECTION.json, for before/after comparisons. */
async function runOnly(section: Section): Promise<void> {
  const needsSlurm = section === "throughput" || section === "latency";
  let slurm = null;
  if (needsSlurm && !values["no-slurm"]) {
    const up = await slurmUp();
    slurm = "slurm" in up ? up.slurm : null;
    if (!slurm) log(`slurm: skipped, ${"skipped" in up ? up.skipped : ""}`);
  }
  const started = Date.now();
  const result =
    section === "throughput"
      ? await throughput(size.jobs, size.slurmJobs, slurm, log)
      : section === "latency"
        ? await latency(size.launches, size.slurmLaunches, slurm, log)
        : section === "scheduler"
          ? scheduler(size.devices, size.queued, size.matchBudgetSec)
          : section === "logs"
            ? await logs(size.logLines, size.httpLines, size.pages, log)
            : await memory(size.agents, size.heartbeatSec, log);
  const record = { section, quick, startedAt: new Date(started).toISOString(), result };
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${section}.json`, dir), `${JSON.stringify(record, null, 2)}\n`);
  log(JSON.stringify(result, null, 2));
  log(`written: bench/results/${section}.json`);
}

async function main(): Promise<void> {
  if (only) return runOnly(only);
  const started = Date.now();
  log(`fedml bench${quick ? " --quick" : ""}`);
  log("slurm: starting the single-node cluster (bench/slurm-up.sh)");
  const up: Awaited<ReturnType<typeof slurmUp>> = values["no-slurm"] ? { skipped: "--no-slurm" } : await slurmUp();
  const slurm = "slurm" in up ? up.slurm : null;
  if (!slurm) log(`slurm: skipped, ${"skipped" in up ? up.skipped : ""}`);

  log("1. throughput");
  const t = await throughput(size.jobs, size.slurmJobs, slurm, log);
  log("2. latency");
  const l = await latency(size.launches, size.slurmLaunches, slurm, log);
  log(`3. scheduler: ${size.devices} devices, ${size.queued} queued runs`);
  const s = scheduler(size.devices, size.queued, size.matchBudgetSec);
  log(`4. logs: ${size.logLines} lines`);
  const g = await logs(size.logLines, size.httpLines, size.pages, log);
  log("5. memory");
  const m = await memory(size.agents, size.heartbeatSec, log);

  const results: BenchResults = {
    quick,
    startedAt: new Date(started).toISOString(),
    durationSec: (Date.now() - started) / 1000,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      os: `Linux ${release()}`,
    },
    slurm: { available: slurm !== null, version: slurm ? slurmVersion() : null, skipped: "skipped" in up ? up.skipped : null },
    throughput: t,
    latency: l,
    scheduler: s,
    logs: g,
    memory: m,
  };
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const markdown = toMarkdown(results);
  writeFileSync(new URL("latest.json", dir), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(new URL("latest.md", dir), markdown);
  log(`\n${markdown}`);
  log("written: bench/results/latest.md, bench/results/latest.json");
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`bench: ${error.message.split("\n")[0]}\n`);
    process.exit(1);
  },
);
