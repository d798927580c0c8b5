// The fleet kept between placements (scheduler/fleet-cache.ts). A kept copy that missed a
// change would hand out a GPU twice or never hand out a freed one, so: placements one after
// another reuse the copy and see each other; every other kind of change to the fleet (another
// replica's placement, a part ending, a device or cluster change) is seen by the very next
// placement; a rolled-back placement leaves nothing behind; silence is checked without a
// fresh read. Two Placements on one database stand for two replicas. Runs on SQLite, and on
// PostgreSQL in the second pass (scripts/postgres-tests.txt).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { parseJobYaml } from "@fedml/core";
import Fastify from "fastify";
import { NotifyHub } from "../src/notify.js";
import { jobNeeds } from "../src/scheduler/job-needs.js";
import { Placement } from "../src/scheduler/placement.js";
import { type Store, openPostgres, openSqlite } from "../src/store/db.js";
import { readFleetVersion } from "../src/store/fleet-version.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { transition } from "../src/transition.js";
import { databaseUrlFor, onPostgres } from "./support/database.js";
import { clearPlacementTables, gpuJobYaml, insertDevice, insertReservingCluster, insertRun } from "./support/store-rows.js";
import { tempDir } from "./support/tmp.js";

const NOW = 1_700_000_000_000;
const OFFLINE_AFTER_MS = 10_000;
const log = Fastify({ logger: { level: "silent" } }).log;

class RolledBack extends Error {}

describe("the fleet kept between placements", () => {
  let store: Store;
  /** A second store on the same database: another replica's connections. */
  let otherStore: Store;
  let mine: Placement;
  let theirs: Placement;
  const clock = { now: NOW };
  let owner: number;
  let runs = 0;

  const db = () => store.db;
  const isOnline = (seen: number | null) => seen !== null && clock.now - seen < OFFLINE_AFTER_MS;
  const placementOn = (s: Store) => new Placement({ db: s.db, hub: new NotifyHub(), log, isOnline, now: () => clock.now });

  /**
   * A launch as runs/launch.ts makes one: under the lock, match, store the run placed and
   * assign it. Answers the device it went to (null: nothing free). `rollBack`: fail after
   * assigning, so the transaction rolls back. `meanwhile`: runs before the commit.
   */
  async function launch(
    placement: Placement,
    gpus = 1,
    rollBack = false,
    meanwhile?: () => Promise<unknown>,
  ): Promise<number | null> {
    const s = placement === mine ? store : otherStore;
    const yaml = gpuJobYaml(gpus);
    const needs = jobNeeds(parseJobYaml(yaml), null, owner);
    try {
      return await transition({ db: s.db, hub: new NotifyHub(), log }, async (tx) => {
        const match = await placement.lock(tx.db);
        const result = await match(owner, needs);
        if (result.kind !== "placed") return null;
        runs++;
        const runId = await insertRun(tx.db, owner, yaml, `r${runs}`, clock.now, "STARTING");
        await placement.assignFresh(tx, { id: runId }, { nodes: result.nodes, firstRank: 1 });
        if (rollBack) throw new RolledBack();
        await meanwhile?.();
        return Number(result.deviceId);
      });
    } catch (error) {
      if (error instanceof RolledBack) return null;
      throw error;
    }
  }

  /** A committed placement transaction that places nothing: the fleet as it read it is kept. */
  async function keep(placement: Placement): Promise<void> {
    const needs = jobNeeds(parseJobYaml(gpuJobYaml(64)), null, owner);
    await transition({ db: db(), hub: new NotifyHub(), log }, async (tx) => {
      const match = await placement.lock(tx.db);
      assert.notEqual((await match(owner, needs)).kind, "placed");
    });
  }

  /** Fresh reads of the fleet `placement` made while `work` ran. */
  async function readsDuring(placement: Placement, work: () => Promise<unknown>): Promise<number> {
    const before = placement.fleet.reads;
    await work();
    return placement.fleet.reads - before;
  }

  const home = tempDir("fleet-cache");
  before(async () => {
    const url = await databaseUrlFor(home.dir);
    store = url ? openPostgres(url) : openSqlite(join(home.dir, "fedml.db"));
    await migrateToLatest(store.db, store.dialect);
    otherStore = url ? openPostgres(url) : openSqlite(join(home.dir, "fedml.db"));
  });

  after(async () => {
    await otherStore?.close();
    await store?.close();
    home.cleanup();
  });

  beforeEach(async () => {
    await clearPlacementTables(db());
    clock.now += 60_000;
    const user = await db()
      .insertInto("users")
      .values({ name: `u${clock.now}`, is_admin: 0, created_at: clock.now })
      .returning("id")
      .executeTakeFirstOrThrow();
    owner = user.id;
    // Fresh replicas: nothing kept from the case before.
    mine = placementOn(store);
    theirs = placementOn(otherStore);
  });

  test("launches one after another match against one read, and see each other's GPUs taken", async () => {
    const device = await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
    assert.equal(await readsDuring(mine, () => launch(mine)), 1);
    assert.equal(
      await readsDuring(mine, async () => {
        assert.equal(await launch(mine), device);
        assert.equal(await launch(mine), null, "both GPUs are taken");
      }),
      0,
    );
    // A heartbeat, a device version bump, a part going RUNNING: nothing placement reads.
    await db().updateTable("devices").set({ last_seen_at: clock.now, version: 9 }).execute();
    await db().updateTable("run_devices").set({ status: "RUNNING", log_count: 4 }).execute();
    assert.equal(await readsDuring(mine, () => launch(mine)), 0);
  });

  test("another replica's placement is seen by the next one here", async () => {
    await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
    await launch(mine);
    assert.notEqual(await launch(theirs), null);
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), null)), 1);
  });

  test("a part that ends, and each kind of device or cluster change, is seen by the next placement", async () => {
    const device = await insertDevice(db(), owner, 1, clock.now);
    await launch(mine);
    await db().updateTable("run_devices").set({ status: "FINISHED" }).execute();
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), device)), 1);
    await db().updateTable("run_devices").set({ status: "FINISHED" }).execute();

    const gone = (label: string, change: () => Promise<unknown>, undo: () => Promise<unknown>) => ({ label, change, undo });
    const set = (values: Record<string, unknown>) => () =>
      db().updateTable("devices").set(values).where("id", "=", device).execute();
    const changes = [
      gone("removed", set({ removed: 1 }), set({ removed: 0 })),
      gone("OFFLINE", set({ status: "OFFLINE" }), set({ status: "IDLE" })),
      gone("no job slots", set({ max_jobs: 0 }), set({ max_jobs: 1 })),
      gone(
        "no GPUs",
        set({ gpus_json: "[]" }),
        set({ gpus_json: JSON.stringify([{ index: 0, name: "NVIDIA A100", memoryMiB: 81920 }]) }),
      ),
      gone(
        "reserved by a cluster",
        () => insertReservingCluster(db(), owner, device, clock.now),
        () => db().updateTable("clusters").set({ state: "stopped" }).execute(),
      ),
    ];
    for (const { label, change, undo } of changes) {
      // Kept, with the device free: a launch from the copy would go there.
      await keep(mine);
      await change();
      assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), null, label)), 1, label);
      await undo();
      assert.equal(await launch(mine), device, `${label} undone: the device is used again`);
      await db().updateTable("run_devices").set({ status: "FINISHED" }).execute();
    }
  });

  test(
    "a change committed by another connection while a placement's transaction is open drops its copy",
    { skip: !onPostgres },
    async () => {
      // (SQLite has one writer at a time: no other write can land meanwhile.)
      const device = await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
      await launch(mine);
      const ended = () => otherStore.db.updateTable("run_devices").set({ status: "FINISHED" }).execute();
      assert.equal(await launch(mine, 1, false, ended), device);
      assert.equal(
        await readsDuring(mine, async () => assert.equal(await launch(mine), device, "the first GPU is free again")),
        1,
      );
    },
  );

  test("a launch pinned to a device, or on a cluster, matches the plain way against the same kept fleet", async () => {
    const device = await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
    await launch(mine);
    const pinned = jobNeeds(parseJobYaml(gpuJobYaml(1)), String(device), owner);
    const anyone = { ...jobNeeds(parseJobYaml(gpuJobYaml(1)), null), requesterId: null };
    await transition({ db: db(), hub: new NotifyHub(), log }, async (tx) => {
      const match = await mine.lock(tx.db);
      const viaPin = await match(owner, pinned);
      const plain = await match(owner, anyone);
      assert.equal(viaPin.kind, "placed");
      assert.equal(plain.kind, "placed");
      if (viaPin.kind === "placed" && plain.kind === "placed") assert.deepEqual(viaPin.nodes, plain.nodes);
    });
  });

  test("many devices changed in one statement count one each (added at the commit, once, on PostgreSQL)", async () => {
    for (let i = 0; i < 50; i++) await insertDevice(db(), owner, 1, clock.now, { status: "OFFLINE" });
    const before = await readFleetVersion(db());
    await db().updateTable("devices").set({ status: "IDLE" }).execute();
    await db().updateTable("devices").set({ version: 2 }).execute();
    assert.equal((await readFleetVersion(db())) - before, 50, "50 back from OFFLINE; a version bump is no change");
  });

  test("a rolled-back placement leaves its GPUs free in the kept fleet", async () => {
    const device = await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
    await launch(mine);
    assert.equal(await launch(mine, 1, true), null);
    // Its copy (its index took the GPU) is not kept: the fleet is read afresh.
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), device)), 1);
    assert.equal(await launch(mine), null, "both GPUs are taken now");
  });

  test("a transaction that placed nothing and rolled back leaves the kept fleet as it was", async () => {
    const device = await insertDevice(db(), owner, 1, clock.now);
    await keep(mine);
    await assert.rejects(
      transition({ db: db(), hub: new NotifyHub(), log }, async (tx) => {
        const match = await mine.lock(tx.db);
        assert.equal((await match(owner, jobNeeds(parseJobYaml(gpuJobYaml(1)), null, owner))).kind, "placed");
        throw new RolledBack();
      }),
      RolledBack,
    );
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), device)), 0);
  });

  test("a device silent in the kept copy is looked up again, not read with the whole fleet", async () => {
    // Last heard from most of an offline window ago when the copy is kept.
    const quiet = await insertDevice(db(), owner, 1, clock.now, { seen: clock.now - OFFLINE_AFTER_MS + 1_000 });
    await keep(mine);
    // Past the window with no heartbeat since: silent, not used.
    clock.now += 2_000;
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine, 1, true), null)), 0);
    // Heard from again: last_seen_at alone, which bumps no version.
    const version = await readFleetVersion(db());
    await db().updateTable("devices").set({ last_seen_at: clock.now }).where("id", "=", quiet).execute();
    assert.equal(await readFleetVersion(db()), version);
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), quiet)), 0);
  });

  test("a copy kept past its refresh reads the devices' last_seen_at again, not the whole fleet", async () => {
    const heard = await insertDevice(db(), owner, 1, clock.now);
    const quiet = await insertDevice(db(), owner, 1, clock.now);
    await keep(mine);
    // Past the refresh time (10 s) and the offline window: one device was heard since, one not.
    clock.now += 15_000;
    await db().updateTable("devices").set({ last_seen_at: clock.now }).where("id", "=", heard).execute();
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), heard)), 0);
    assert.equal(await launch(mine), null, "the silent device is not used");
    await db().updateTable("devices").set({ last_seen_at: clock.now }).where("id", "=", quiet).execute();
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), quiet)), 0);
  });

  test("a queue pass uses the kept fleet, and what it places is seen by the next launch", async () => {
    await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
    await launch(mine);
    runs++;
    const waiting = await insertRun(db(), owner, gpuJobYaml(1), `r${runs}`, clock.now);
    const reads = await readsDuring(mine, () => mine.placeQueued());
    assert.equal(reads, 0, "a run queued is no change to the fleet");
    const status = await db().selectFrom("runs").select("status").where("id", "=", waiting).executeTakeFirstOrThrow();
    assert.equal(status.status, "STARTING");
    assert.equal(await launch(mine), null, "the pass's placement took the last GPU");
  });
});
