// A queue pass that placed nothing is skipped while nothing it reads changed (the change
// marker, store/placement-inputs.ts). A marker that missed an input would leave runs stuck,
// so: for each kind of write that can let a waiting run through, the next pass runs and
// places it at once; writes that cannot (a wait reason, a heartbeat, a shrinking balance)
// leave the pass skipped. Runs on SQLite, and on PostgreSQL in the second pass
// (scripts/postgres-tests.txt).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import Fastify from "fastify";
import type { KyselyPlugin } from "kysely";
import { NotifyHub } from "../src/notify.js";
import { Placement } from "../src/scheduler/placement.js";
import { type Store, openPostgres, openSqlite } from "../src/store/db.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { readPlacementInputs } from "../src/store/placement-inputs.js";
import { databaseUrlFor, onPostgres } from "./support/database.js";
import {
  clearPlacementTables,
  type DeviceRowOptions,
  gpuJobYaml,
  insertDevice,
  insertReservingCluster,
  insertRun,
} from "./support/store-rows.js";
import { tempDir } from "./support/tmp.js";

const NOW = 1_700_000_000_000;
const OFFLINE_AFTER_MS = 10_000;

/**
 * Counts the statements a pass sends: a skipped pass sends one or two (the marker's read, the
 * silent devices' last_seen_at); a pass that runs reads at least the marker and the queue.
 */
class CountQueries implements KyselyPlugin {
  count = 0;
  transformQuery: KyselyPlugin["transformQuery"] = (args) => {
    this.count++;
    return args.node;
  };
  transformResult: KyselyPlugin["transformResult"] = async (args) => args.result;
}

describe("queue passes skipped while nothing they read changed", () => {
  let store: Store;
  let placement: Placement;
  const counter = new CountQueries();
  const clock = { now: NOW };
  let owner: number;
  let other: number;
  let runs = 0;

  const db = () => store.db;

  const device = (ownerId: number, gpus: number, over: DeviceRowOptions = {}) =>
    insertDevice(db(), ownerId, gpus, clock.now, over);

  const queue = (ownerId: number, gpus: number, cap = 100) => {
    runs++;
    return insertRun(db(), ownerId, gpuJobYaml(gpus, cap), `r${runs}`, clock.now + runs);
  };

  const status = async (runId: number) =>
    (await db().selectFrom("runs").select("status").where("id", "=", runId).executeTakeFirstOrThrow()).status;

  /** One pass: how many it placed, and whether it was skipped. */
  async function pass(): Promise<{ placed: number; skipped: boolean }> {
    const before = counter.count;
    const placed = await placement.placeQueued();
    return { placed, skipped: counter.count - before <= 2 };
  }

  /** Passes until one places nothing; then the next one is skipped. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 5 && (await pass()).placed > 0; i++);
    assert.deepEqual(await pass(), { placed: 0, skipped: true }, "a pass over an unchanged store is skipped");
  }

  const home = tempDir("placement-inputs");
  before(async () => {
    const url = await databaseUrlFor(home.dir);
    store = url ? openPostgres(url) : openSqlite(join(home.dir, "fedml.db"));
    await migrateToLatest(store.db, store.dialect);
    const hub = new NotifyHub();
    const log = Fastify({ logger: { level: "silent" } }).log;
    const isOnline = (seen: number | null) => seen !== null && clock.now - seen < OFFLINE_AFTER_MS;
    placement = new Placement({ db: store.db.withPlugin(counter), hub, log, onlineTest: () => isOnline, now: () => clock.now });
  });

  after(async () => {
    await store?.close();
    home.cleanup();
  });

  beforeEach(async () => {
    // Each case starts from an empty store with two users and no runs.
    await clearPlacementTables(db());
    clock.now += 60_000;
    const users = await db()
      .insertInto("users")
      .values([
        { name: `u${clock.now}`, is_admin: 0, created_at: clock.now },
        { name: `v${clock.now}`, is_admin: 0, created_at: clock.now },
      ])
      .returning("id")
      .execute();
    [owner, other] = users.map((u) => u.id);
    // The fleet: one 1-GPU device of the owner's, taken by a first run; a second run waits.
    await device(owner, 1);
    await queue(owner, 1);
    await pass();
  });

  test("no change: skipped; a wait reason, a heartbeat, a log count or a shrinking balance change nothing", async () => {
    const waiting = await queue(owner, 1);
    await settle();
    const version = await readPlacementInputs(db());
    await db().updateTable("runs").set({ reason: "something else" }).where("id", "=", waiting).execute();
    await db().updateTable("devices").set({ last_seen_at: clock.now, version: 7 }).execute();
    await db().updateTable("run_devices").set({ log_count: 3 }).execute();
    await db().updateTable("users").set({ credit_balance_micros: -5 }).execute();
    assert.equal(await readPlacementInputs(db()), version);
    assert.deepEqual(await pass(), { placed: 0, skipped: true });
    assert.equal(await status(waiting), "QUEUED");
    // The safety net: a full pass once the quiet is old enough, whatever the marker says.
    clock.now += 31_000;
    await db().updateTable("devices").set({ last_seen_at: clock.now }).execute();
    assert.deepEqual(await pass(), { placed: 0, skipped: false });
  });

  test("on PostgreSQL a pass's own claims bump nothing (they only take capacity)", { skip: !onPostgres }, async () => {
    await device(owner, 4, { maxJobs: 4 });
    for (let i = 0; i < 4; i++) await queue(owner, 1);
    const version = await readPlacementInputs(db());
    assert.equal((await pass()).placed, 4);
    assert.equal(await readPlacementInputs(db()), version);
  });

  test("a part that ends frees its GPUs: the waiting run is placed", async () => {
    const waiting = await queue(owner, 1);
    await settle();
    await db().updateTable("run_devices").set({ status: "FINISHED", ended_at: clock.now }).execute();
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(waiting), "STARTING");
  });

  test("a part asked to stop no longer counts against its owner's credit", async () => {
    // A paid device of the other user's, shared; the owner's balance covers one hour of one run.
    await db().updateTable("users").set({ credit_balance_micros: 1_000_000, card_bound: 1 }).where("id", "=", owner).execute();
    await device(other, 2, { shared: 1, price: 1_000_000, maxJobs: 2 });
    const first = await queue(owner, 1);
    const second = await queue(owner, 1);
    for (let i = 0; i < 3; i++) await pass();
    assert.equal(await status(first), "STARTING");
    assert.equal(await status(second), "QUEUED");
    await settle();
    const paid = await db().selectFrom("run_devices").select("run_id").where("run_id", "=", first).executeTakeFirstOrThrow();
    await db().updateTable("run_devices").set({ stop_requested: 1 }).where("run_id", "=", paid.run_id).execute();
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(second), "STARTING");
  });

  test("a run queued", async () => {
    await device(owner, 2, { maxJobs: 2 });
    await queue(owner, 3);
    await settle();
    const small = await queue(owner, 1);
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(small), "STARTING");
  });

  test("a device registered", async () => {
    const waiting = await queue(owner, 1);
    await settle();
    await device(owner, 1);
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(waiting), "STARTING");
  });

  test("a device back from OFFLINE, one shared, one with more job slots or GPUs", async () => {
    const offline = await device(owner, 1, { status: "OFFLINE" });
    const unshared = await device(other, 1);
    const slots = await device(owner, 1, { maxJobs: 0 });
    const gpus = await device(owner, 0);
    const changes: [string, () => Promise<unknown>][] = [
      ["back online", () => db().updateTable("devices").set({ status: "IDLE" }).where("id", "=", offline).execute()],
      ["shared", () => db().updateTable("devices").set({ shared: 1 }).where("id", "=", unshared).execute()],
      ["max_jobs", () => db().updateTable("devices").set({ max_jobs: 1 }).where("id", "=", slots).execute()],
      [
        "GPUs",
        () =>
          db()
            .updateTable("devices")
            .set({ gpus_json: JSON.stringify([{ index: 0, name: "NVIDIA A100", memoryMiB: 81920 }]) })
            .where("id", "=", gpus)
            .execute(),
      ],
    ];
    for (const [label, change] of changes) {
      const waiting = await queue(owner, 1);
      await settle();
      await change();
      assert.deepEqual(await pass(), { placed: 1, skipped: false }, label);
      assert.equal(await status(waiting), "STARTING", label);
    }
  });

  test("a silent device heard from again (last_seen_at only, which the marker does not watch)", async () => {
    const silent = await device(owner, 1, { seen: clock.now - 2 * OFFLINE_AFTER_MS });
    const waiting = await queue(owner, 1);
    await settle();
    await db().updateTable("devices").set({ last_seen_at: clock.now }).where("id", "=", silent).execute();
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(waiting), "STARTING");
  });

  test("credit granted, a card bound", async () => {
    await device(other, 1, { shared: 1, price: 1_000_000 });
    const waiting = await queue(owner, 1);
    await settle();
    await db().updateTable("users").set({ credit_balance_micros: 5_000_000, card_bound: 1 }).where("id", "=", owner).execute();
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(waiting), "STARTING");
  });

  test("a cluster lets its devices go; a hold ends", async () => {
    const reserved = await device(owner, 1);
    const clusterId = await insertReservingCluster(db(), other, reserved, clock.now);
    const waiting = await queue(owner, 1);
    await settle();
    await db().updateTable("clusters").set({ state: "stopped" }).where("id", "=", clusterId).execute();
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(waiting), "STARTING");

    // A hold the owner pays for takes their balance: ended, the next paid run fits.
    await db().updateTable("users").set({ credit_balance_micros: 1_000_000, card_bound: 1 }).where("id", "=", owner).execute();
    await device(other, 1, { shared: 1, price: 1_000_000 });
    const hold = await db()
      .insertInto("reservations")
      .values({
        cluster_id: clusterId,
        device_id: reserved,
        payer_id: owner,
        payee_id: other,
        price_per_gpu_hour_micros: 1_000_000,
        gpu_count: 1,
        started_at: clock.now,
        ended_at: null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const paid = await queue(owner, 1);
    await settle();
    assert.equal(await status(paid), "QUEUED");
    await db().updateTable("reservations").set({ ended_at: clock.now }).where("id", "=", hold.id).execute();
    assert.deepEqual(await pass(), { placed: 1, skipped: false });
    assert.equal(await status(paid), "STARTING");
  });
});
