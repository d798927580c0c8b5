import { loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { parseJobYaml } from "@fedml/core";
import Fastify from "fastify";
import { NotifyHub } from "../packages/server/src/notify.js";
import { jobNeeds } from "../packages/server/src/scheduler/job-needs.js";
import { Placement } from "../packages/server/src/scheduler/placement.js";
import type { Store } from "../packages/server/src/store/db.js";
import { transition } from "../packages/server/src/transition.js";
import { runRow } from "../packages/server/test/support/store-rows.js";
import { median } from "./lib/stats.js";
import { withScratchStore } from "./lib/scratch-store.js";
import { seed } from "./replicas.js";
import { simulatedFleet } from "./scheduler.js";

const DEVICES = 10_000;
/** Devices with a part running on GPU 0 (half the fleet), and so a part to end. */
const RUNNING = 9_000;
const REPEATS = 5;
const ENDED = [1, 10, 100, 500, 1000];
const YAML = 'job: "true"\ncomputing:\n  minimum_num_gpus: 1\n  maximum_cost_per_hour: 100\n';
const log = Fastify({ logger: { level: "silent" } }).log;

/** One kind of launch: median wall and CPU ms of its transaction, and how the fleet was come by. */
export interface CatchUpFigure {
  what: string;
  wallMs: number;
  cpuMs: number;
  freshReads: number;
  indexBuilds: number;
}

export interface FleetCatchUpResult {
  devices: number;
  runningParts: number;
  launchesEach: number;
  fresh: CatchUpFigure;
  reused: CatchUpFigure;
  /** After k parts ended elsewhere, per k. */
  partsEnded: (CatchUpFigure & { k: number })[];
  /** After k devices changed in a column the index reads, per k. */
  devicesChanged: (CatchUpFigure & { k: number })[];
  loadAverage: number;
}

async function setUp(store: Store): Promise<{ owner: number; project: number; parts: number[] }> {
  await seed(store, simulatedFleet(DEVICES), []);
  const { db } = store;
  await db.updateTable("devices").set({ status: "IDLE", last_seen_at: Date.now() }).execute();
  const owner = (await db.selectFrom("users").select("id").orderBy("id").executeTakeFirstOrThrow()).id;
  const project = (await db.selectFrom("projects").select("id").where("owner_id", "=", owner).executeTakeFirstOrThrow()).id;
  const devices = await db.selectFrom("devices").select("id").orderBy("id").limit(RUNNING).execute();
  const now = Date.now();
  for (let i = 0; i < devices.length; i += 500) {
    const slice = devices.slice(i, i + 500);
    const runs = await db
      .insertInto("runs")
      .values(slice.map((_, j) => runRow(owner, project, YAML, `held-${i + j}`, now, "RUNNING")))
      .returning("id")
      .execute();
    await db
      .insertInto("run_devices")
      .values(
        slice.map((d, j) => ({
          run_id: runs[j].id,
          device_id: d.id,
          rank: 1,
          node_index: 0,
          status: "RUNNING",
          gpu_indices_json: "[0]",
          exit_code: null,
          reason: null,
          started_at: now,
          ended_at: null,
          log_count: 0,
          price_per_gpu_hour_micros: 1_000_000,
          stop_requested: 0,
        })),
      )
      .execute();
  }
  const parts = await db.selectFrom("run_devices").select("run_id").where("status", "=", "RUNNING").execute();
  return { owner, project, parts: parts.map((p) => p.run_id) };
}

async function measure(store: Store, label: string): Promise<FleetCatchUpResult> {
  const { owner, project, parts } = await setUp(store);
  const needs = jobNeeds(parseJobYaml(YAML), null, owner);
  const placementOf = () =>
    new Placement({ db: store.db, hub: new NotifyHub(), log, onlineTest: () => () => true, now: () => Date.now() });
  let launched = 0;
  /** One launch as runs/launch.ts makes it: wall and CPU ms of its transaction. */
  const launch = async (placement: Placement): Promise<{ wall: number; cpu: number }> => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await transition({ db: store.db, hub: new NotifyHub(), log }, async (tx) => {
      const result = await (await placement.lock(tx.db))(owner, needs);
      if (result.kind !== "placed") throw new Error(`nothing placed: ${result.kind}`);
      const run = await tx.db
        .insertInto("runs")
        .values(runRow(owner, project, YAML, `bench-launch-${++launched}`, Date.now(), "STARTING"))
        .returning("id")
        .executeTakeFirstOrThrow();
      await placement.assignFresh(tx, run, { nodes: result.nodes, firstRank: 1 });
    });
    const used = process.cpuUsage(cpu);
    return { wall: performance.now() - start, cpu: (used.user + used.system) / 1000 };
  };
  /** The figure of `samples`, printed as a line. */
  const figure = (
    what: string,
    samples: { wall: number; cpu: number }[],
    freshReads: number,
    indexBuilds: number,
  ): CatchUpFigure => {
    const result = {
      what,
      wallMs: median(samples.map((s) => s.wall)),
      cpuMs: median(samples.map((s) => s.cpu)),
      freshReads,
      indexBuilds,
    };
    process.stdout.write(
      `${label}  ${what.padEnd(44)} ${result.wallMs.toFixed(1)} ms wall, ${result.cpuMs.toFixed(1)} ms CPU (fresh reads ${freshReads}, index builds ${indexBuilds} of ${samples.length})\n`,
    );
    return result;
  };

  const freshSamples: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < REPEATS; i++) freshSamples.push(await launch(placementOf()));
  const fresh = figure("fresh read (nothing kept)", freshSamples, REPEATS, REPEATS);

  const placement = placementOf();
  await launch(placement);
  const reusedSamples: { wall: number; cpu: number }[] = [];
  const before = { ...placement.fleet };
  for (let i = 0; i < REPEATS; i++) reusedSamples.push(await launch(placement));
  const reused = figure(
    "kept copy reused (nothing changed)",
    reusedSamples,
    placement.fleet.reads - before.reads,
    placement.fleet.indexBuilds - before.indexBuilds,
  );

  let next = 0;
  const partsEnded: FleetCatchUpResult["partsEnded"] = [];
  for (const k of ENDED) {
    const samples: { wall: number; cpu: number }[] = [];
    const { reads, indexBuilds } = placement.fleet;
    for (let i = 0; i < REPEATS; i++) {
      const ending = parts.slice(next, next + k);
      next += k;
      await store.db.updateTable("run_devices").set({ status: "FINISHED" }).where("run_id", "in", ending).execute();
      samples.push(await launch(placement));
    }
    const f = placement.fleet;
    partsEnded.push({
      k,
      ...figure(`${k} part(s) ended elsewhere`, samples, f.reads - reads, f.indexBuilds - indexBuilds),
    });
  }
  const devicesChanged: FleetCatchUpResult["devicesChanged"] = [];
  for (const k of [1, 100]) {
    const samples: { wall: number; cpu: number }[] = [];
    const { reads, indexBuilds } = placement.fleet;
    for (let i = 0; i < REPEATS; i++) {
      const changing = await store.db
        .selectFrom("devices")
        .select("id")
        .orderBy("id", "desc")
        .limit(k)
        .offset(i * k)
        .execute();
      await store.db
        .updateTable("devices")
        .set((eb) => ({ max_jobs: eb("max_jobs", "+", 1) }))
        .where(
          "id",
          "in",
          changing.map((d) => d.id),
        )
        .execute();
      samples.push(await launch(placement));
    }
    const f = placement.fleet;
    devicesChanged.push({
      k,
      ...figure(`${k} device(s) changed (max_jobs)`, samples, f.reads - reads, f.indexBuilds - indexBuilds),
    });
  }
  const loadAverage = loadavg()[0];
  process.stdout.write(`${label}  load ${loadAverage.toFixed(1)}\n`);
  return {
    devices: DEVICES,
    runningParts: RUNNING,
    launchesEach: REPEATS,
    fresh,
    reused,
    partsEnded,
    devicesChanged,
    loadAverage,
  };
}

/** The bench's section: on SQLite, in a fresh directory. */
export function fleetCatchUp(): Promise<FleetCatchUpResult> {
  return withScratchStore(undefined, measure);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await withScratchStore(process.argv[2], measure);
