/**
 * Section: a fleet of simulated agents on one server. For each scale (1,000 then 10,000 agents
 * by default) a fresh server; the agents (`lib/fleet-worker.ts`, many per process, the agent's
 * own client) register, say hello and hold the assignments long-poll as the real agent does;
 * one run per agent is launched through the API and reported RUNNING, so as many runs are in
 * flight as there are agents. Then, steady: more launches one at a time (launch sent -> the
 * device's poll answering it), and every held poll that ended by its wait (the time it took
 * beyond the wait: the heartbeat's cost to the server). Server RSS idle, at the end, at its peak,
 * and sampled every 250 ms through the steady phase: a single sample falls anywhere in V8's
 * major-GC cycle (one every 35-50 s at 10,000 agents, the heap swinging by a third between
 * them), so the steady phase's median is the figure to compare across sizes.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseJobYaml } from "@fedml/core";
import { openSqlite } from "../packages/server/src/store/db.js";
import { createUser, startServer } from "../test/support/processes.js";
import { collectGarbage, inspectorUrlIn } from "./lib/inspector-gc.js";
import { metricValue, scrapeMetrics } from "./lib/metrics.js";
import { cpuSeconds, rssMb, sleep } from "./lib/proc.js";
import { type Quantiles, median, nowMs, quantiles } from "./lib/stats.js";

export interface FleetScale {
  agents: number;
  workers: number;
  runsInFlight: number;
  serverIdleRssMb: number;
  /** At the end of the steady phase (one sample), every agent holding its poll with every run in flight. */
  serverRssMb: number;
  /** The highest sample (every 250 ms from the server's start to the end). */
  serverPeakRssMb: number;
  /** Sampled every 250 ms through the steady phase (the launches one at a time, then heartbeats alone). */
  serverSteadyRssMb?: { median: number; max: number; samples: number };
  /**
   * Right after a full collection (inspector-gc.ts), median of three: idle, and with every agent
   * holding its poll after the steady phase. The live memory, without the garbage and spare
   * young-generation room a sample carries from wherever it falls in V8's cycle.
   */
  serverAfterGc?: {
    idleRssMb: number;
    rssMb: number;
    idleHeapUsedMb: number;
    heapUsedMb: number;
    /** Of the heap in use: compiled code, which grows as V8 optimises (at any fleet size). */
    idleCodeMb?: number;
    codeMb?: number;
  };
  /** Of serverRssMb: the V8 heap in use and memory held outside it (buffers), from the server's /metrics. */
  serverHeapUsedMb: number;
  /** Of serverRssMb: what V8 holds for its heap (in use and free), from /metrics. */
  serverHeapTotalMb?: number;
  serverExternalMb: number;
  registerSec: number;
  /** From queueing one run per agent to every agent having its run. */
  launchSec: number;
  /** The run placed (its placed_at) -> the device's poll answers with it, while the queue of one run per agent is placed. */
  stormAssignmentMs: Quantiles;
  /** Launches one at a time with every run in flight: the API call's round trip (it places the run). */
  launchMs: Quantiles;
  /** ... and placed -> the device's poll answers with it. */
  assignmentMs: Quantiles;
  /** Held polls that ended by their wait: time beyond the wait. */
  heartbeatMs: Quantiles;
  /** RUNNING reports' round trips. */
  reportMs: Quantiles;
  polls: number;
  measuredSec: number;
  /** The server's CPU while only heartbeats come: cores busy, and ms per answered poll. */
  serverCpuShare: number;
  serverCpuMsPerPoll: number;
  /** The simulated agents' processes' CPU over the same window: cores busy, and ms per poll. */
  workersCpuShare: number;
  workersCpuMsPerPoll: number;
  /** The simulated agents' own event-loop delay over that window (their share of the heartbeat's time), worst process. */
  workerLoopDelayMs: { mean: number; p99: number };
  loadAverage: number[];
}

export interface FleetResult {
  pollWaitMs: number;
  scales: FleetScale[];
}

const workerFile = new URL("./lib/fleet-worker.ts", import.meta.url);
const LAUNCH_YAML = 'job: "sleep 3600"\n';
const INSERT_BATCH = 500;
/**
 * The heartbeats-alone window, in poll waits: 40 s spans about one major-GC cycle at 10,000
 * agents, so the steady RSS samples see the heap both before and after a collection.
 */
const HEARTBEATS_ALONE_WAITS = 4;

/** How many full collections each after-GC figure is the median of, and how far apart. */
const AFTER_GC_SAMPLES = 3;
const AFTER_GC_SPACING_MS = 1000;

/**
 * The server's RSS, V8 heap in use and the compiled code in it, right after a full collection,
 * each the median of AFTER_GC_SAMPLES. Each sample waits a moment after its collection: V8
 * gives freed pages back on a helper thread.
 */
async function afterFullGc(
  inspectorUrl: string,
  pid: number,
  serverUrl: string,
): Promise<{ rssMb: number; heapUsedMb: number; codeMb: number }> {
  const rss: number[] = [];
  const heap: number[] = [];
  const code: number[] = [];
  for (let i = 0; i < AFTER_GC_SAMPLES; i++) {
    await collectGarbage(inspectorUrl);
    await sleep(AFTER_GC_SPACING_MS);
    rss.push(rssMb(pid));
    const memory = await serverMemory(serverUrl);
    heap.push(memory.heapUsedMb);
    code.push(memory.codeMb);
  }
  return { rssMb: median(rss), heapUsedMb: median(heap), codeMb: median(code) };
}

/** `count` copies of run `like` (its owner, project and YAML), QUEUED, straight into the SQLite store beside the server. */
async function seedQueued(dbFile: string, like: string, count: number): Promise<void> {
  const store = openSqlite(dbFile);
  try {
    const model = await store.db.selectFrom("runs").selectAll().where("id", "=", Number(like)).executeTakeFirstOrThrow();
    const spec = JSON.stringify(parseJobYaml(LAUNCH_YAML));
    const now = Date.now();
    for (let i = 0; i < count; i += INSERT_BATCH) {
      await whileLocked(() =>
        store.db
          .insertInto("runs")
          .values(
            Array.from({ length: Math.min(INSERT_BATCH, count - i) }, (_, j) => ({
              owner_id: model.owner_id,
              project_id: model.project_id,
              name: `fleet-${i + j}`,
              status: "QUEUED",
              job_type: model.job_type,
              platform: model.platform,
              yaml_text: LAUNCH_YAML,
              spec_json: spec,
              workspace_sha256: null,
              resource_id: null,
              reason: null,
              exit_code: null,
              created_at: now + i + j,
              started_at: null,
              ended_at: null,
              stop_requested: 0,
              cluster_id: null,
            })),
          )
          .execute(),
      );
    }
  } finally {
    await store.close();
  }
}

/** The server holds SQLite's write lock through each queue pass: a write beside it waits its turn. */
async function whileLocked<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!/database is locked/.test((error as Error).message) || attempt >= 100) throw error;
      await sleep(100);
    }
  }
}

/** Runs and devices by status, for a bench that stalls. */
async function storeCounts(dbFile: string): Promise<string> {
  const store = openSqlite(dbFile);
  try {
    const runs = await store.db
      .selectFrom("runs")
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute();
    const devices = await store.db
      .selectFrom("devices")
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute();
    return `runs ${runs.map((r) => `${r.status} ${r.n}`).join(", ")}; devices ${devices.map((d) => `${d.status} ${d.n}`).join(", ")}`;
  } finally {
    await store.close();
  }
}

/** Each run's placed_at, read from the store beside the server. */
async function placedTimes(dbFile: string): Promise<Map<string, number>> {
  const store = openSqlite(dbFile);
  try {
    const rows = await store.db.selectFrom("runs").select(["id", "placed_at"]).where("placed_at", "is not", null).execute();
    return new Map(rows.map((r) => [String(r.id), Number(r.placed_at)]));
  } finally {
    await store.close();
  }
}

/** The server's V8 heap in use and external memory (MB), as its /metrics reports them. */
async function serverMemory(serverUrl: string): Promise<{
  heapUsedMb: number;
  heapTotalMb: number;
  codeMb: number;
  externalMb: number;
  majorGcs: number;
  majorGcSec: number;
}> {
  const samples = await scrapeMetrics(serverUrl);
  const mb = (name: string) => metricValue(samples, `fedml_server_${name}`) / 2 ** 20;
  const spaceMb = (space: string) =>
    (metricValue(samples, "fedml_server_nodejs_heap_space_size_used_bytes", { space }) || 0) / 2 ** 20;
  const major = (what: string) => metricValue(samples, `fedml_server_nodejs_gc_duration_seconds_${what}`, { kind: "major" }) || 0;
  return {
    heapUsedMb: mb("nodejs_heap_size_used_bytes"),
    heapTotalMb: mb("nodejs_heap_size_total_bytes"),
    codeMb: spaceMb("code") + spaceMb("code_large_object"),
    externalMb: mb("nodejs_external_memory_bytes"),
    majorGcs: major("count"),
    majorGcSec: major("sum"),
  };
}

interface WorkerSamples {
  heartbeatOverheadMs: number[];
  reportMs: number[];
  polls: number;
  loopDelayMs: { mean: number; p99: number };
}

interface Launched {
  runId: string;
  sentAt: number;
}

/** One launch; a YAML read refused for taking too long (code 17, a machine starved of CPU) is tried again. */
async function launchOne(serverUrl: string, apiKey: string): Promise<Launched> {
  for (let attempt = 1; ; attempt++) {
    const sentAt = nowMs();
    const res = await fetch(`${serverUrl}/api/v1/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ yamlText: LAUNCH_YAML, workspaceSha256: null }),
    });
    const answer = (await res.json()) as { resultCode: number; resultMsg: string; runId?: string | null };
    if (answer.resultCode === 17 && attempt < 5) continue;
    if (answer.resultCode !== 0 || !answer.runId) throw new Error(`launch not placed: ${answer.resultCode} ${answer.resultMsg}`);
    return { runId: answer.runId, sentAt };
  }
}

async function scale(
  agents: number,
  pollWaitMs: number,
  samples: number,
  log: (s: string) => void,
  cpuProfDir?: string,
): Promise<FleetScale> {
  const root = mkdtempSync(join(tmpdir(), "fedml-bench-fleet-"));
  // Shared: the bench writes the queue and reads placement times beside the running server.
  const server = await startServer(join(root, "server"), {
    extraArgs: ["--log-level", "warn", "--sqlite-access", "shared"],
    nodeArgs: [
      // On loopback only, for the full collections before the after-GC samples (nothing else attaches).
      "--inspect=127.0.0.1:0",
      ...(cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", join(cpuProfDir, `fleet-${agents}`)] : []),
    ],
  });
  const inspectorUrl = await inspectorUrlIn(server.home);
  const dbFile = join(root, "server", "server", "fedml.db");
  const pid = server.child.pid as number;
  const workers: ChildProcess[] = [];
  // A simulated agents' process that dies leaves its runs unseen: the waits below fail then
  // instead of running to their deadline (with the bench lock held).
  let stopping = false;
  let workerGone: Error | null = null;
  let onWorkerGone: (err: Error) => void = () => {};
  const died = new Promise<never>((_, reject) => {
    onWorkerGone = reject;
  });
  died.catch(() => {});
  let peak = 0;
  /** Filled through the steady phase only. */
  let steadyRss: number[] | undefined;
  const sampler = setInterval(() => {
    const rss = rssMb(pid);
    peak = Math.max(peak, rss);
    steadyRss?.push(rss);
  }, 250);
  try {
    const apiKey = await createUser(server, "bench");
    await sleep(1000);
    const serverIdleRssMb = rssMb(pid);
    const idleAfterGc = await afterFullGc(inspectorUrl, pid, server.url);
    const seenAt = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const workerCount = Math.max(1, Math.min(8, Math.ceil(agents / 1250)));
    const per = Math.ceil(agents / workerCount);
    log(`  ${agents} agents in ${workerCount} processes: registering`);
    let t0 = nowMs();
    const registered: Promise<void>[] = [];
    for (let w = 0; w < workerCount; w++) {
      const count = Math.min(per, agents - w * per);
      const child = fork(
        workerFile,
        [JSON.stringify({ serverUrl: server.url, apiKey, from: w * per, count, waitMs: pollWaitMs, maxJobs: 2 })],
        {
          execArgv: [
            "--import",
            "tsx",
            ...(cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", join(cpuProfDir, `fleet-${agents}-workers`)] : []),
          ],
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        },
      );
      workers.push(child);
      child.once("exit", (code, signal) => {
        if (stopping) return;
        workerGone ??= new Error(`a fleet worker exited (${signal ?? `code ${code}`}) before the bench was done`);
        onWorkerGone(workerGone);
      });
      child.on("message", (m: { seen?: [string, number][] }) => {
        for (const [runId, at] of m.seen ?? []) {
          seenAt.set(runId, at);
          waiters.get(runId)?.();
        }
      });
      registered.push(
        new Promise((resolve, reject) => {
          child.on("message", (m: { registered?: number }) => m.registered !== undefined && resolve());
          child.once("exit", (code) => reject(new Error(`a fleet worker exited with ${code}`)));
        }),
      );
    }
    await Promise.all(registered);
    const registerSec = (nowMs() - t0) / 1000;
    await sleep(1000);

    const waitAllSeen = async (count: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (seenAt.size < count) {
        if (workerGone) throw workerGone;
        if (Date.now() > deadline) {
          throw new Error(`only ${seenAt.size} of ${count} runs reached their agents (store: ${await storeCounts(dbFile)})`);
        }
        await sleep(250);
      }
    };
    const seen = (runId: string) =>
      seenAt.has(runId) ? Promise.resolve() : Promise.race([new Promise<void>((resolve) => waiters.set(runId, resolve)), died]);
    // One launch through the API makes the user's project; the rest of the fleet's runs go
    // straight into the store as QUEUED (a launch reads the whole fleet to decide, so 10,000
    // launches one by one would measure the launch path, not the fleet) and the server's
    // queue loop places them, many per pass, waking each device's poll.
    const first = await launchOne(server.url, apiKey);
    log(`  ${agents - 1} more runs queued in the store, placed by the server's queue loop`);
    t0 = nowMs();
    await seedQueued(dbFile, first.runId, agents - 1);
    // A deep queue of one user is placed a window at a time, each pass reading the whole fleet: minutes at 10,000.
    await waitAllSeen(agents, 1_500_000);
    const launchSec = (nowMs() - t0) / 1000;
    const afterQueue = await serverMemory(server.url);
    log(
      `  queue placed in ${launchSec.toFixed(1)} s: server RSS ${rssMb(pid).toFixed(0)} MB (peak so far ${peak.toFixed(0)}), V8 heap in use ${afterQueue.heapUsedMb.toFixed(0)} of ${afterQueue.heapTotalMb.toFixed(0)}, ${afterQueue.majorGcs} major GCs so far (${(afterQueue.majorGcSec * 1000).toFixed(0)} ms)`,
    );
    const placedAt = await placedTimes(dbFile);
    const storm = [...seenAt].filter(([runId]) => runId !== first.runId);
    const stormAssignmentMs = quantiles(storm.map(([runId, at]) => at - (placedAt.get(runId) as number)));

    log(
      `  ${agents} runs in flight: ${samples} more launches one at a time, then heartbeats alone for ${(pollWaitMs * HEARTBEATS_ALONE_WAITS) / 1000} s`,
    );
    steadyRss = [];
    const steady: Launched[] = [];
    const launchMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const l = await launchOne(server.url, apiKey);
      launchMs.push(nowMs() - l.sentAt);
      await seen(l.runId);
      steady.push(l);
      await sleep(20);
    }
    // Heartbeats alone: the server's cost per poll without launches mixed in.
    if (workerGone) throw workerGone;
    for (const w of workers) w.send({ reset: true });
    const measureStart = nowMs();
    const cpuAtStart = cpuSeconds(pid).self;
    const workersCpu = () => workers.reduce((sum, w) => sum + cpuSeconds(w.pid as number).self, 0);
    const workersCpuAtStart = workersCpu();
    while (nowMs() - measureStart < pollWaitMs * HEARTBEATS_ALONE_WAITS) {
      if (workerGone) throw workerGone;
      await sleep(250);
    }
    const measuredSec = (nowMs() - measureStart) / 1000;
    const serverCpuSec = cpuSeconds(pid).self - cpuAtStart;
    const workersCpuSec = workersCpu() - workersCpuAtStart;
    const serverRssMb = rssMb(pid);
    const steadySamples = steadyRss;
    steadyRss = undefined;
    const memory = await serverMemory(server.url);
    log(
      `  since: ${memory.majorGcs - afterQueue.majorGcs} major GCs (${((memory.majorGcSec - afterQueue.majorGcSec) * 1000).toFixed(0)} ms) in ${((nowMs() - t0) / 1000 - launchSec).toFixed(0)} s`,
    );
    const collected = await Promise.all(
      workers.map(
        (w) =>
          new Promise<WorkerSamples>((resolve) => {
            const on = (m: { samples?: WorkerSamples }) => {
              if (!m.samples) return;
              w.off("message", on);
              resolve(m.samples);
            };
            w.on("message", on);
            w.send({ report: true });
          }),
      ),
    );
    const polls = collected.reduce((sum, c) => sum + c.polls, 0);
    // After the agents' latency samples are in: a full collection at 10,000 agents pauses the server.
    const peakBeforeGc = Math.max(peak, serverRssMb);
    const loadedAfterGc = await afterFullGc(inspectorUrl, pid, server.url);
    log(
      `  after a full collection: RSS idle ${idleAfterGc.rssMb.toFixed(0)} MB, with the fleet ${loadedAfterGc.rssMb.toFixed(0)}; V8 heap in use idle ${idleAfterGc.heapUsedMb.toFixed(1)} (code ${idleAfterGc.codeMb.toFixed(1)}), with the fleet ${loadedAfterGc.heapUsedMb.toFixed(1)} (code ${loadedAfterGc.codeMb.toFixed(1)})`,
    );
    return {
      agents,
      workers: workerCount,
      runsInFlight: seenAt.size,
      serverIdleRssMb,
      serverRssMb,
      serverPeakRssMb: peakBeforeGc,
      serverSteadyRssMb: {
        median: median(steadySamples),
        max: Math.max(serverRssMb, ...steadySamples),
        samples: steadySamples.length,
      },
      serverAfterGc: {
        idleRssMb: idleAfterGc.rssMb,
        rssMb: loadedAfterGc.rssMb,
        idleHeapUsedMb: idleAfterGc.heapUsedMb,
        heapUsedMb: loadedAfterGc.heapUsedMb,
        idleCodeMb: idleAfterGc.codeMb,
        codeMb: loadedAfterGc.codeMb,
      },
      serverHeapUsedMb: memory.heapUsedMb,
      serverHeapTotalMb: memory.heapTotalMb,
      serverExternalMb: memory.externalMb,
      registerSec,
      launchSec,
      stormAssignmentMs,
      launchMs: quantiles(launchMs),
      assignmentMs: await (async () => {
        const placed = await placedTimes(dbFile);
        return quantiles(steady.map((l) => (seenAt.get(l.runId) as number) - (placed.get(l.runId) as number)));
      })(),
      heartbeatMs: quantiles(collected.flatMap((c) => c.heartbeatOverheadMs)),
      reportMs: quantiles(collected.flatMap((c) => c.reportMs)),
      polls,
      measuredSec,
      serverCpuShare: serverCpuSec / measuredSec,
      serverCpuMsPerPoll: (serverCpuSec * 1000) / Math.max(1, polls),
      workersCpuShare: workersCpuSec / measuredSec,
      workersCpuMsPerPoll: (workersCpuSec * 1000) / Math.max(1, polls),
      workerLoopDelayMs: {
        mean: Math.max(...collected.map((c) => c.loopDelayMs.mean)),
        p99: Math.max(...collected.map((c) => c.loopDelayMs.p99)),
      },
      loadAverage: loadavg().map((v) => Math.round(v * 10) / 10),
    };
  } finally {
    clearInterval(sampler);
    stopping = true;
    const running = workers.filter((w) => w.exitCode === null && w.signalCode === null);
    for (const w of running) w.send({ stop: true });
    await Promise.all(running.map((w) => new Promise((resolve) => w.once("exit", resolve))));
    if (cpuProfDir) {
      // Writing a long run's profile at exit outlasts stop()'s wait before SIGKILL.
      const exited = new Promise((resolve) => server.child.once("exit", resolve));
      server.child.kill("SIGTERM");
      await exited;
    } else await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function fleet(
  scales: number[],
  pollWaitMs: number,
  samples: number,
  log: (s: string) => void,
  cpuProfDir?: string,
): Promise<FleetResult> {
  const result: FleetResult = { pollWaitMs, scales: [] };
  for (const agents of scales) {
    const s = await scale(agents, pollWaitMs, samples, log, cpuProfDir);
    log(
      `  ${agents} agents: RSS at the end ${s.serverRssMb.toFixed(0)} MB, steady median/max ${s.serverSteadyRssMb?.median.toFixed(0)}/${s.serverSteadyRssMb?.max.toFixed(0)} (idle ${s.serverIdleRssMb.toFixed(0)}, peak ${s.serverPeakRssMb.toFixed(0)}; V8 heap in use ${s.serverHeapUsedMb.toFixed(0)} of ${(s.serverHeapTotalMb ?? 0).toFixed(0)}, external ${s.serverExternalMb.toFixed(0)}), heartbeat p50/p99 ${s.heartbeatMs.p50.toFixed(1)}/${s.heartbeatMs.p99.toFixed(1)} ms, assignment p50/p99 ${s.assignmentMs.p50.toFixed(1)}/${s.assignmentMs.p99.toFixed(1)} ms, queue of ${s.agents} placed in ${s.launchSec.toFixed(1)} s, server ${s.serverCpuMsPerPoll.toFixed(3)} CPU-ms/poll (${s.serverCpuShare.toFixed(2)} cores), agents' processes ${s.workersCpuMsPerPoll.toFixed(3)} CPU-ms/poll (${s.workersCpuShare.toFixed(2)} cores, loop delay mean/p99 ${s.workerLoopDelayMs.mean.toFixed(1)}/${s.workerLoopDelayMs.p99.toFixed(1)} ms), load ${s.loadAverage.join(" ")}`,
    );
    result.scales.push(s);
  }
  return result;
}
