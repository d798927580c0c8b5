/**
 * Section 6: runs placed per second by real server processes working a deep queue: one on
 * SQLite, then one and three replicas on one PostgreSQL. The store is seeded directly with the
 * matcher section's fleet (10,000 simulated devices, online, shared) and queue (100,000 runs
 * spread over many users) with the fleet offline; the servers start, and once every one is up
 * the whole fleet comes online in one update, so no replica places runs while another is still
 * starting. They place what fits through their queue loops (one transaction per pass under the
 * placement lock). The rate is placed runs over the span from the start of the first pass that
 * placed runs to the commit of the last (the servers' `queue.pass` log events). Beside it, the
 * CPU the servers and the database spent from the fleet's coming online to the end, per
 * placement: far less noisy than the rate on a busy machine.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseJobYaml } from "@fedml/core";
import { sql } from "kysely";
import { isPostgresUrl } from "../packages/server/src/config.js";
import { type Store, openPostgres, openSqlite } from "../packages/server/src/store/db.js";
import { migrateToLatest } from "../packages/server/src/store/migrations.js";
import { repoRoot } from "../test/support/paths.js";
import { type ServerProcess, startServer } from "../test/support/processes.js";
import type { BenchDevice, BenchRun } from "./matcher-adapter.js";
import { cpuSeconds, sleep } from "./lib/proc.js";
import { withDatabase } from "./lib/scratch-store.js";
import { simulatedFleet, simulatedQueue } from "./scheduler.js";

export interface ReplicaFigure {
  store: "sqlite" | "postgres";
  replicas: number;
  /** Runs placed before the fleet was full (or the time budget ended). */
  placed: number;
  /** Queue passes that placed runs. */
  passes: number;
  /**
   * From the start of the first pass that placed runs (its lock and read of the store
   * included) to the commit of the last one, as the servers log them.
   */
  seconds: number;
  placementsPerSec: number;
  /** CPU ms per placed run, from the fleet's coming online to the end: the servers' and the database's. */
  cpuMsPerPlacement?: { servers: number; database: number };
  /**
   * CPU ms per second the servers and the database spent once the fleet was full and nothing
   * changed (from a second after the last placement to the end): the cost of passes that find
   * nothing to place.
   */
  idleCpuMsPerSec?: { servers: number; database: number };
  /** The 1-minute load average when the section ended. */
  loadAverage?: number;
}

export interface ReplicasResult {
  devices: number;
  queued: number;
  users: number;
  /** SQLite once; PostgreSQL × 1 and × 3 in alternating rounds (POSTGRES_ROUNDS of each). */
  figures: ReplicaFigure[];
  /** Why the PostgreSQL rows are missing, when they are. */
  postgresSkipped: string | null;
}

/** Queued runs are spread over this many users: a pass looks at 50 per user (placement.ts). */
const USERS = 200;
const INSERT_BATCH = 500;
/**
 * Rounds of PostgreSQL × 1 and × 3: one pass places most of the queue in two or three
 * seconds, and a single run of each swings by a fifth on this machine from one minute to the
 * next; the report compares their medians. Which size goes first alternates from round to
 * round, so that neither always runs straight after a template copy or the other's servers.
 */
export const POSTGRES_ROUNDS = 4;

function yamlOf(run: BenchRun): string {
  const type = run.resourceType ? `\n  resource_type: ${run.resourceType}` : "";
  return `job: "true"\ncomputing:\n  minimum_num_gpus: ${run.gpus}\n  maximum_cost_per_hour: $${run.maxCostPerHour}${type}\n`;
}

/** Users with credit, the fleet (shared, online now) and the queue, straight into the store. */
export async function seed(store: Store, fleet: BenchDevice[], queue: BenchRun[]): Promise<void> {
  const { db } = store;
  await migrateToLatest(db, store.dialect);
  const now = Date.now();
  const users: number[] = [];
  for (let i = 0; i < USERS; i++) {
    const user = await db
      .insertInto("users")
      .values({ name: `bench-${i}`, is_admin: 0, created_at: now, credit_balance_micros: 1e15, card_bound: 1 })
      .returning("id")
      .executeTakeFirstOrThrow();
    users.push(user.id);
  }
  const projects: number[] = [];
  for (const owner of users) {
    const project = await db
      .insertInto("projects")
      .values({ owner_id: owner, name: "bench", created_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
    projects.push(project.id);
  }
  const provider = users[0];
  for (let i = 0; i < fleet.length; i += INSERT_BATCH) {
    await db
      .insertInto("devices")
      .values(
        fleet.slice(i, i + INSERT_BATCH).map((d) => ({
          owner_id: provider,
          name: `sim-${d.id}`,
          token_hash: null,
          hostname: `sim-${d.id}`,
          os_type: "Linux",
          os_version: "bench",
          cpu_count: 8,
          memory_bytes: 64 * 2 ** 30,
          gpus_json: JSON.stringify(
            d.gpuNames.map((name, index) => ({ index, name, memoryMiB: 81920, uuid: `sim-${d.id}-${index}` })),
          ),
          gpu_error: null,
          address: "127.0.0.1",
          provider: "bench",
          region: "local",
          price_per_gpu_hour_micros: Math.round(d.pricePerGpuHour * 1e6),
          container_runtime: null,
          shared: 1,
          simulated: 1,
          max_jobs: d.maxJobs,
          agent_version: "bench",
          // Online only once every server is up (see measure).
          status: "OFFLINE",
          last_seen_at: now,
          version: 1,
          removed: 0,
          created_at: now,
        })),
      )
      .execute();
  }
  const specs = new Map<string, string>();
  const specOf = (yaml: string) => {
    let spec = specs.get(yaml);
    if (!spec) {
      spec = JSON.stringify(parseJobYaml(yaml));
      specs.set(yaml, spec);
    }
    return spec;
  };
  for (let i = 0; i < queue.length; i += INSERT_BATCH) {
    await db
      .insertInto("runs")
      .values(
        queue.slice(i, i + INSERT_BATCH).map((run, j) => {
          const n = i + j;
          const yaml = yamlOf(run);
          return {
            owner_id: users[n % USERS],
            project_id: projects[n % USERS],
            name: `bench-${n}`,
            status: "QUEUED",
            job_type: "train",
            platform: "falcon",
            yaml_text: yaml,
            spec_json: specOf(yaml),
            workspace_sha256: null,
            resource_id: null,
            reason: null,
            exit_code: null,
            created_at: now + n,
            started_at: null,
            ended_at: null,
            stop_requested: 0,
            cluster_id: null,
          };
        }),
      )
      .execute();
  }
}

async function placedSoFar(store: Store): Promise<{ placed: number; first: number | null; last: number | null }> {
  const row = await store.db
    .selectFrom("runs")
    .select((eb) => [
      eb.fn.countAll<number>().as("placed"),
      eb.fn.min("placed_at").as("first"),
      eb.fn.max("placed_at").as("last"),
    ])
    .where("placed_at", "is not", null)
    .executeTakeFirstOrThrow();
  return {
    placed: Number(row.placed),
    first: row.first === null ? null : Number(row.first),
    last: row.last === null ? null : Number(row.last),
  };
}

/** A cheap progress signal to poll: counting placed runs reads the whole runs table. */
async function partsSoFar(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom("run_devices")
    .select((eb) => eb.fn.countAll<number>().as("parts"))
    .executeTakeFirstOrThrow();
  return Number(row.parts);
}

/** CPU seconds of every process of the PostgreSQL server this store talks to (when it runs here). */
export async function databaseCpuSeconds(store: Store): Promise<number | null> {
  if (store.dialect !== "postgres") return null;
  try {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(store.db);
    const stat = readFileSync(`/proc/${rows[0].pid}/stat`, "utf8");
    const postmaster = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const own = cpuSeconds(postmaster);
    let total = own.self + own.children;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const text = readFileSync(`/proc/${entry}/stat`, "utf8");
        if (Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[1]) === postmaster) total += cpuSeconds(Number(entry)).self;
      } catch {
        // Gone meanwhile: its CPU is in the postmaster's children's now.
      }
    }
    return total;
  } catch {
    return null;
  }
}

const serverCpuSeconds = (servers: ServerProcess[]) =>
  servers.reduce((sum, s) => sum + (s.child.pid ? cpuSeconds(s.child.pid).self : 0), 0);

/** One measurement of measure(): which store, how many servers, on what. */
export interface Measurement {
  kind: "sqlite" | "postgres";
  replicas: number;
  databaseUrl: string | null;
  /** The bench's folder: each server's home goes under it. */
  root: string;
  fleet: BenchDevice[];
  queue: BenchRun[];
  budgetSec: number;
  /** Names this measurement's server homes apart from another of the same kind and size. */
  round?: number;
  /** The database is a copy of one seeded already (PostgreSQL's template databases). */
  seeded?: boolean;
}

/** Starts the servers on the seeded store and waits until placing stops (the fleet is full). */
export async function measure(
  { kind, replicas, databaseUrl, root, fleet, queue, budgetSec, round = 0, seeded = false }: Measurement,
  log: (s: string) => void,
): Promise<ReplicaFigure> {
  const homes = Array.from({ length: replicas }, (_, i) => join(root, `${kind}-${replicas}-${round}-${i}`));
  const store = databaseUrl ? openPostgres(databaseUrl) : openSqlite(join(homes[0], "server", "fedml.db"));
  const servers: ServerProcess[] = [];
  try {
    if (!seeded) {
      const seeding = Date.now();
      await seed(store, fleet, queue);
      log(`    seeded ${fleet.length} devices and ${queue.length} runs in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
    }
    // At info each pass that places runs logs when it started and when its placements landed.
    // This process reads the SQLite file beside the server: shared access.
    const args = [
      "--database-url",
      databaseUrl ?? "",
      "--sqlite-access",
      "shared",
      "--log-level",
      "info",
      "--offline-after-ms",
      String(3_600_000),
    ];
    // FEDML_BENCH_CPU_PROF=<dir>: each server writes a V8 CPU profile there when it stops.
    const profDir = process.env.FEDML_BENCH_CPU_PROF;
    const nodeArgs = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
    for (const home of homes) servers.push(await startServer(home, { extraArgs: args, nodeArgs }));
    // Every server's first passes found no device; let them settle, then the fleet comes online.
    await sleep(2_000);
    // CPU read at every poll: the figure ends at the first reading after the last placement,
    // not counting the passes that find the fleet full while the loop waits to be sure.
    const cpuAt = async () => ({ at: Date.now(), servers: serverCpuSeconds(servers), database: await databaseCpuSeconds(store) });
    const cpuBefore = await cpuAt();
    const cpuReadings = [cpuBefore];
    // On SQLite a server's pass may hold the one write lock for longer than the busy timeout.
    for (let tries = 1; ; tries++) {
      try {
        await store.db.updateTable("devices").set({ status: "IDLE", last_seen_at: Date.now() }).execute();
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== "SQLITE_BUSY" || tries >= 50) throw err;
      }
    }
    // A pass commits its placements at its end, so progress shows in steps: stop once nothing
    // was placed for three times the longest step so far (at least 5 s), or at the budget.
    const deadline = Date.now() + budgetSec * 1000;
    let last = 0;
    let lastChange = Date.now();
    let longestStep = 0;
    for (;;) {
      const placed = await partsSoFar(store);
      cpuReadings.push(await cpuAt());
      if (placed !== last) {
        if (last > 0) longestStep = Math.max(longestStep, Date.now() - lastChange);
        last = placed;
        lastChange = Date.now();
      }
      const quiet = Date.now() - lastChange;
      if ((placed > 0 && quiet > Math.max(5_000, 3 * longestStep)) || Date.now() > deadline || placed >= queue.length) break;
      await sleep(250);
    }
    await Promise.all(servers.map((s) => s.stop()));
    const { placed } = await placedSoFar(store);
    const passes = homes.flatMap(placingPasses);
    const first = Math.min(...passes.map((p) => p.startedAt));
    const lastAt = Math.max(...passes.map((p) => p.endedAt));
    const seconds = passes.length > 0 ? Math.max(0.001, (lastAt - first) / 1000) : 0;
    log(
      `    ${passes.length} placing pass(es): ${passes.map((p) => `${p.placed} in ${p.ms} ms (load ${p.loadMs}, decide ${p.decideMs}, apply ${p.applyMs}; CPU ms ${p.loadCpuMs}/${p.decideCpuMs}/${p.applyCpuMs})`).join(", ")}`,
    );
    const perPlacement = (cpuSec: number) => (placed > 0 ? (cpuSec * 1000) / placed : 0);
    const cpuAfter = cpuReadings.find((r) => r.at >= lastAt) ?? cpuReadings[cpuReadings.length - 1];
    const cpuMsPerPlacement = {
      servers: perPlacement(cpuAfter.servers - cpuBefore.servers),
      database:
        cpuBefore.database !== null && cpuAfter.database !== null ? perPlacement(cpuAfter.database - cpuBefore.database) : 0,
    };
    log(
      `    CPU per placement: servers ${cpuMsPerPlacement.servers.toFixed(3)} ms, database ${cpuMsPerPlacement.database.toFixed(3)} ms; load ${loadavg()[0].toFixed(1)}`,
    );
    const idleFrom = cpuReadings.find((r) => r.at >= lastAt + 1_000);
    const idleTo = cpuReadings[cpuReadings.length - 1];
    const idleSec = idleFrom ? (idleTo.at - idleFrom.at) / 1000 : 0;
    const idleCpuMsPerSec =
      idleFrom && idleSec >= 1
        ? {
            servers: ((idleTo.servers - idleFrom.servers) * 1000) / idleSec,
            database:
              idleFrom.database !== null && idleTo.database !== null
                ? ((idleTo.database - idleFrom.database) * 1000) / idleSec
                : 0,
          }
        : undefined;
    if (idleCpuMsPerSec) {
      log(
        `    full fleet, nothing changing (${idleSec.toFixed(1)} s): servers ${idleCpuMsPerSec.servers.toFixed(0)} ms/s, database ${idleCpuMsPerSec.database.toFixed(0)} ms/s`,
      );
    }
    return {
      store: kind,
      replicas,
      placed,
      passes: passes.length,
      seconds,
      placementsPerSec: seconds > 0 ? placed / seconds : 0,
      cpuMsPerPlacement,
      idleCpuMsPerSec,
      loadAverage: loadavg()[0],
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await store.close();
  }
}

interface PassEvent {
  placed: number;
  startedAt: number;
  endedAt: number;
  ms: number;
  loadMs?: number;
  decideMs?: number;
  applyMs?: number;
  loadCpuMs?: number;
  decideCpuMs?: number;
  applyCpuMs?: number;
}

/** The passes that placed runs, from a server's log (its `queue.pass` events). */
function placingPasses(home: string): PassEvent[] {
  const events: PassEvent[] = [];
  for (const file of readdirSync(home).filter((f) => /^server-.*\.log$/.test(f))) {
    for (const line of readFileSync(join(home, file), "utf8").split("\n")) {
      if (!line.includes('"queue.pass"')) continue;
      const event = JSON.parse(line) as PassEvent & { event: string };
      if (event.event === "queue.pass" && event.placed > 0) events.push(event);
    }
  }
  return events;
}

/** A throwaway PostgreSQL: the one the tests use when set, else a cluster of our own. */
function postgresAdmin(): { url: string; stop(): void } | { skipped: string } {
  const given = process.env.FEDML_BENCH_DATABASE_URL ?? process.env.FEDML_TEST_DATABASE_URL;
  if (isPostgresUrl(given)) return { url: given, stop: () => undefined };
  // Its own folder straight under the temp dir: run as root, the script hands the folder to the
  // postgres user, who could not get through a private (0700) parent such as the section's root.
  const dir = mkdtempSync(join(tmpdir(), "fedml-bench-pg-"));
  const script = join(repoRoot, "scripts", "pg-test-cluster.sh");
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const url = execFileSync(script, ["start", dir], { encoding: "utf8" }).trim();
    return {
      url,
      stop: () => {
        execFileSync(script, ["stop", dir], { stdio: "ignore" });
        remove();
      },
    };
  } catch (err) {
    remove();
    return { skipped: `no PostgreSQL (scripts/pg-test-cluster.sh start failed: ${(err as Error).message.split("\n")[0]})` };
  }
}

/**
 * PostgreSQL with one and three replicas, alternating (× 1, × 3, × 1, ...) so that the
 * machine's drift over the section weighs on both alike; each round on a fresh copy of one
 * seeded database.
 */
async function postgresRounds(
  adminUrl: string,
  root: string,
  fleet: BenchDevice[],
  queue: BenchRun[],
  budgetSec: number,
  log: (s: string) => void,
): Promise<ReplicaFigure[]> {
  const figures: ReplicaFigure[] = [];
  // A template database may have no session open while it is copied: seeded, then left alone.
  await withDatabase(adminUrl, async (templateUrl) => {
    const store = openPostgres(templateUrl);
    try {
      const seeding = Date.now();
      await seed(store, fleet, queue);
      log(
        `    seeded ${fleet.length} devices and ${queue.length} runs in ${((Date.now() - seeding) / 1000).toFixed(1)} s (copied for each round)`,
      );
    } finally {
      await store.close();
    }
    const template = new URL(templateUrl).pathname.slice(1);
    for (let round = 1; round <= POSTGRES_ROUNDS; round++) {
      for (const replicas of round % 2 === 1 ? [1, 3] : [3, 1]) {
        log(`  round ${round}: ${replicas} replica(s) on one PostgreSQL`);
        figures.push(
          await withDatabase(
            adminUrl,
            (url) =>
              measure({ kind: "postgres", replicas, databaseUrl: url, root, fleet, queue, budgetSec, round, seeded: true }, log),
            template,
          ),
        );
      }
    }
  });
  return figures;
}

export async function replicasSection(
  deviceCount: number,
  queuedCount: number,
  budgetSec: number,
  log: (s: string) => void,
): Promise<ReplicasResult> {
  const root = mkdtempSync(join(tmpdir(), "fedml-bench-replicas-"));
  const fleet = simulatedFleet(deviceCount);
  const queue = simulatedQueue(queuedCount);
  const figures: ReplicaFigure[] = [];
  let postgresSkipped: string | null = null;
  try {
    log("  one server on SQLite");
    figures.push(await measure({ kind: "sqlite", replicas: 1, databaseUrl: null, root, fleet, queue, budgetSec }, log));
    const pgAdmin = postgresAdmin();
    if ("skipped" in pgAdmin) {
      postgresSkipped = pgAdmin.skipped;
      log(`  PostgreSQL: skipped, ${postgresSkipped}`);
    } else {
      try {
        figures.push(...(await postgresRounds(pgAdmin.url, root, fleet, queue, budgetSec, log)));
      } finally {
        pgAdmin.stop();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  for (const f of figures) {
    log(`  ${f.store} x${f.replicas}: ${f.placed} placed in ${f.seconds.toFixed(1)} s = ${f.placementsPerSec.toFixed(0)}/s`);
  }
  return { devices: deviceCount, queued: queuedCount, users: USERS, figures, postgresSkipped };
}
