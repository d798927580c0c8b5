/**
 * `npm run bench [-- --quick] [-- --slurm-jobs N --slurm-launches N] [-- --only scheduler,logs]`: every
 * figure next to its reference from the same run, written to bench/results/latest.{md,json}.
 * Sections: throughput, latency, scheduler, logs, memory, serving, replicas, slurm-backend, dashboard, fleet-catch-up. `--only` runs the named sections and
 * replaces just those in the existing latest.json (the others keep their earlier figures).
 * `--no-slurm` leaves the Slurm column empty; `--jobs N` sets the throughput job count;
 * `--cpu-prof DIR` has the throughput, serving, fleet and logs-e2e sections' server and agents write V8 CPU profiles to DIR.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { latency } from "./latency.js";
import { dashboard } from "./dashboard.js";
import { type Slurm, slurmUp } from "./lib/slurm.js";
import { fleet } from "./fleet.js";
import { fleetCatchUp } from "./fleet-catch-up.js";
import { logs } from "./logs.js";
import { logsEndToEnd } from "./logs-e2e.js";
import { memory } from "./memory.js";
import { replicasSection } from "./replicas.js";
import { type BenchResults, toMarkdown } from "./report.js";
import { scheduler } from "./scheduler.js";
import { serving } from "./serving.js";
import { slurmBackend } from "./slurm-backend.js";
import { throughput } from "./throughput.js";
import { workspace } from "./workspace.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    "slurm-jobs": { type: "string" },
    "slurm-launches": { type: "string" },
    only: { type: "string" },
    "no-slurm": { type: "boolean" },
    jobs: { type: "string" },
    "fleet-agents": { type: "string" },
    "cpu-prof": { type: "string" },
  },
  strict: true,
});
const quick = values.quick ?? false;

const SECTIONS = [
  "throughput",
  "latency",
  "scheduler",
  "logs",
  "memory",
  "serving",
  "replicas",
  "fleet",
  "workspace",
  "logs-e2e",
  "slurm-backend",
  "dashboard",
  "fleet-catch-up",
] as const;
type Section = (typeof SECTIONS)[number];
const only = values.only?.split(",").map((s) => s.trim()) ?? null;
for (const name of only ?? []) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    process.stderr.write(`bench: unknown section "${name}" in --only (sections: ${SECTIONS.join(", ")})\n`);
    process.exit(2);
  }
}
const runs = (section: Section) => only === null || only.includes(section);

// Full sizes are the targets' (1,000 Slurm jobs, 10,000,000 log lines, ...); --quick keeps the whole run under two minutes.
const size = quick
  ? {
      jobs: 200,
      slurmJobs: 30,
      launches: 50,
      slurmLaunches: 10,
      devices: 10_000,
      queued: 100_000,
      matchBudgetSec: 3,
      replicaBudgetSec: 20,
      logLines: 300_000,
      httpLines: 50_000,
      pages: 100,
      agents: 1000,
      heartbeatSec: 12,
      proxied: 1000,
      fleetAgents: [500, 1000],
      fleetSamples: 50,
      workspaceMb: 50,
      e2eLatencyLines: 300,
      e2eRateLines: 100_000,
      slurmBackendLaunches: 5,
      dashboardRuns: 20_000,
      dashboardLines: 200_000,
    }
  : {
      jobs: 1000,
      slurmJobs: 1000,
      launches: 200,
      slurmLaunches: 200,
      devices: 10_000,
      queued: 100_000,
      matchBudgetSec: 20,
      replicaBudgetSec: 60,
      logLines: 10_000_000,
      httpLines: 200_000,
      pages: 500,
      agents: 1000,
      heartbeatSec: 25,
      proxied: 5000,
      fleetAgents: [1000, 10_000],
      fleetSamples: 100,
      workspaceMb: 300,
      e2eLatencyLines: 2000,
      e2eRateLines: 1_000_000,
      slurmBackendLaunches: 30,
      dashboardRuns: 100_000,
      dashboardLines: 1_000_000,
    };

// Slurm starts batch jobs on a one-second tick, so its 1,000 jobs alone take minutes.
if (values["slurm-jobs"]) size.slurmJobs = Number(values["slurm-jobs"]);
if (values.jobs) size.jobs = Number(values.jobs);
if (values["slurm-launches"]) size.slurmLaunches = Number(values["slurm-launches"]);
if (values["fleet-agents"]) size.fleetAgents = values["fleet-agents"].split(",").map(Number);

/** The real agent's hold: a third of the server's default offline window (30 s). */
const AGENT_POLL_WAIT_MS = 10_000;

const log = (line: string) => process.stdout.write(`${line}\n`);

function slurmVersion(): string | null {
  try {
    return execFileSync("sinfo", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

/** The figures of an earlier run, for the sections `--only` leaves out. */
function previousResults(): BenchResults | null {
  const file = new URL("./results/latest.json", import.meta.url);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as BenchResults) : null;
}

async function main(): Promise<void> {
  const started = Date.now();
  const previous = only ? previousResults() : null;
  if (only && !previous) throw new Error("--only needs an earlier full run's bench/results/latest.json");
  log(`fedml bench${quick ? " --quick" : ""}${only ? ` --only ${only.join(",")}` : ""}`);
  const needsSlurm = (runs("throughput") || runs("latency") || runs("slurm-backend")) && !values["no-slurm"];
  let slurm: Slurm | null = null;
  let slurmInfo = previous?.slurm ?? { available: false, version: null, skipped: "not run" };
  if (needsSlurm) {
    log("slurm: starting the single-node cluster (bench/slurm-up.sh)");
    const up = await slurmUp();
    slurm = "slurm" in up ? up.slurm : null;
    if (!slurm) log(`slurm: skipped, ${"skipped" in up ? up.skipped : ""}`);
    slurmInfo = {
      available: slurm !== null,
      version: slurm ? slurmVersion() : null,
      skipped: "skipped" in up ? up.skipped : null,
    };
  }

  let t = previous?.throughput;
  let l = previous?.latency;
  let s = previous?.scheduler;
  let g = previous?.logs;
  let m = previous?.memory;
  let v = previous?.serving;
  let p = previous?.replicas;
  let f = previous?.fleet;
  let w = previous?.workspace;
  let e = previous?.logsE2e;
  let b = previous?.slurmBackend;
  let d = previous?.dashboard;
  let c = previous?.fleetCatchUp;
  if (runs("throughput")) {
    log("1. throughput");
    t = await throughput(size.jobs, size.slurmJobs, slurm, log, values["cpu-prof"]);
  }
  if (runs("latency")) {
    log("2. latency");
    l = await latency(size.launches, size.slurmLaunches, slurm, log);
  }
  if (runs("scheduler")) {
    log(`3. scheduler: ${size.devices} devices, ${size.queued} queued runs`);
    s = scheduler(size.devices, size.queued, size.matchBudgetSec);
  }
  if (runs("logs")) {
    log(`4. logs: ${size.logLines} lines`);
    g = await logs(size.logLines, size.httpLines, size.pages, log);
  }
  if (runs("memory")) {
    log("5. memory");
    m = await memory(size.agents, size.heartbeatSec, log);
  }
  if (runs("serving")) {
    log("6. serving: the inference proxy");
    v = await serving(size.proxied, log, values["cpu-prof"]);
  }
  if (runs("replicas")) {
    log(`7. replicas: ${size.devices} devices, ${size.queued} queued runs, placed by server processes`);
    p = await replicasSection(size.devices, size.queued, size.replicaBudgetSec, log);
  }
  if (runs("fleet")) {
    log(`8. fleet: ${size.fleetAgents.join(" then ")} simulated agents on one server`);
    f = await fleet(size.fleetAgents, AGENT_POLL_WAIT_MS, size.fleetSamples, log, values["cpu-prof"]);
  }
  if (runs("workspace")) {
    log(`9. workspace: ${size.workspaceMb} MB of mixed files`);
    w = await workspace(size.workspaceMb, log);
  }
  if (runs("logs-e2e")) {
    log("10. logs end to end: a job's print to a follower");
    e = await logsEndToEnd(size.e2eLatencyLines, size.e2eRateLines, log, values["cpu-prof"]);
  }
  if (runs("slurm-backend") && slurm) {
    log("11. slurm-backend: launch -> job start through the Slurm backend and through plain sbatch");
    b = await slurmBackend(size.slurmBackendLaunches, slurm, log);
  }
  if (runs("dashboard")) {
    log(`12. dashboard: first render over ${size.dashboardRuns} runs and ${size.dashboardLines} log lines, JS size`);
    d = await dashboard(size.dashboardRuns, size.dashboardLines, log);
  }
  if (runs("fleet-catch-up")) {
    log("13. fleet-catch-up: a launch's placement at 10,000 devices after parts ended elsewhere");
    c = await fleetCatchUp();
  }
  if (!t || !l || !s || !g || !m) throw new Error("a section has no figures");

  const now = new Date(started).toISOString();
  const results: BenchResults = {
    quick: previous?.quick ?? quick,
    startedAt: previous?.startedAt ?? now,
    durationSec: previous?.durationSec ?? (Date.now() - started) / 1000,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      os: `Linux ${release()}`,
    },
    slurm: slurmInfo,
    throughput: t,
    latency: l,
    scheduler: s,
    logs: g,
    memory: m,
    ...(v ? { serving: v } : {}),
    ...(p ? { replicas: p } : {}),
    ...(f ? { fleet: f } : {}),
    ...(w ? { workspace: w } : {}),
    ...(e ? { logsE2e: e } : {}),
    ...(b ? { slurmBackend: b } : {}),
    ...(d ? { dashboard: d } : {}),
    ...(c ? { fleetCatchUp: c } : {}),
    ...(only
      ? {
          rerun: [
            ...(previous?.rerun ?? []).filter((r) => !only.includes(r.section)),
            ...only.map((section) => ({ section, at: now, quick })),
          ],
        }
      : {}),
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
