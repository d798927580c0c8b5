import { loadavg } from "node:os";
import { outOfBalanceGuard } from "../packages/server/src/billing/balance-guard.js";
import { systemClock } from "../packages/server/src/clock.js";
import type { ServerContext } from "../packages/server/src/context.js";
import type { Store } from "../packages/server/src/store/db.js";
import { cpuSeconds } from "./lib/proc.js";
import { withScratchStore } from "./lib/scratch-store.js";
import { databaseCpuSeconds, seed } from "./replicas.js";
import { simulatedFleet, simulatedQueue } from "./scheduler.js";

const DEVICES = 10_000;
const QUEUED = 100_000;
const BILLING = 16_250;
const TICKS = 20;

async function billEvery(store: Store): Promise<void> {
  const now = Date.now();
  const runs = await store.db.selectFrom("runs").select("id").orderBy("id").limit(BILLING).execute();
  const devices = await store.db.selectFrom("devices").select("id").orderBy("id").execute();
  for (let i = 0; i < runs.length; i += 500) {
    const slice = runs.slice(i, i + 500);
    await store.db
      .insertInto("run_devices")
      .values(
        slice.map((r, j) => ({
          run_id: r.id,
          device_id: devices[(i + j) % devices.length].id,
          rank: 0,
          node_index: 0,
          status: "RUNNING",
          gpu_indices_json: "[0]",
          exit_code: null,
          reason: null,
          started_at: now - 60_000,
          ended_at: null,
          log_count: 0,
          price_per_gpu_hour_micros: 1_000_000,
          stop_requested: 0,
        })),
      )
      .execute();
    await store.db
      .updateTable("runs")
      .set({ status: "RUNNING", started_at: now - 60_000 })
      .where(
        "id",
        "in",
        slice.map((r) => r.id),
      )
      .execute();
  }
}

async function measure(store: Store, label: string): Promise<void> {
  await seed(store, simulatedFleet(DEVICES), simulatedQueue(QUEUED));
  await billEvery(store);
  // Only what the guard touches when nobody runs out.
  const ctx = { db: store.db, options: { clock: systemClock }, now: () => Date.now() } as unknown as ServerContext;
  const tick = outOfBalanceGuard(ctx);
  const cpu = async () => ({ self: cpuSeconds(process.pid).self, db: await databaseCpuSeconds(store) });
  const figure = (a: { self: number; db: number | null }, b: { self: number; db: number | null }, n: number) =>
    `server ${(((b.self - a.self) * 1000) / n).toFixed(1)} ms` +
    (a.db !== null && b.db !== null ? `, database ${(((b.db - a.db) * 1000) / n).toFixed(1)} ms` : "");
  const start = await cpu();
  const stopped = await tick();
  const afterFirst = await cpu();
  for (let i = 0; i < TICKS; i++) await tick();
  const end = await cpu();
  if (stopped !== 0) throw new Error(`the guard stopped ${stopped} users: the seed should leave everyone in credit`);
  process.stdout.write(
    `${label}, ${BILLING} billing parts: first tick ${figure(start, afterFirst, 1)}; ` +
      `steady ticks ${figure(afterFirst, end, TICKS)} per tick; load ${loadavg()[0].toFixed(1)}\n`,
  );
}

await withScratchStore(process.argv[2], measure);
