// The fleet kept between placements (scheduler/fleet-cache.ts). A kept copy that missed a
// change would hand out a GPU twice or never hand out a freed one, so: placements one after
// another reuse the copy and see each other; every other kind of change to the fleet (another
// replica's placement, a part ending, a device or cluster change) is seen by the very next
// placement, which catches up on the devices the change log names (a part ending, a device
// changed, another replica's launch or pass) or reads the fleet afresh (a cluster change, a
// pruned log, more devices than a catch-up reads); a rolled-back placement leaves nothing
// behind; silence is checked without a fresh read. Two Placements on one database stand for two replicas. Runs on SQLite, and on
// PostgreSQL in the second pass (scripts/postgres-tests.txt).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { parseJobYaml } from "@fedml/core";
import Fastify from "fastify";
import { sql } from "kysely";
import { NotifyHub } from "../src/notify.js";
import { jobNeeds } from "../src/scheduler/job-needs.js";
import { Placement } from "../src/scheduler/placement.js";
import { type Store, openPostgres, openSqlite } from "../src/store/db.js";
import { FLEET_LOG_KEEP, readFleetVersion } from "../src/store/fleet-version.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { transition } from "../src/transition.js";
import { databaseUrlFor, onPostgres } from "./support/database.js";
import {
  clearPlacementTables,
  deviceRow,
  gpuJobYaml,
  insertDevice,
  insertReservingCluster,
  insertRun,
  runRow,
} from "./support/store-rows.js";
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
  const placementOn = (s: Store) =>
    new Placement({ db: s.db, hub: new NotifyHub(), log, onlineTest: () => isOnline, now: () => clock.now });

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

  /** The device a launch of one GPU would get now (null: none), placing nothing. */
  async function wouldGet(placement: Placement): Promise<number | null> {
    const needs = jobNeeds(parseJobYaml(gpuJobYaml(1)), null, owner);
    return transition({ db: db(), hub: new NotifyHub(), log }, async (tx) => {
      const result = await (await placement.lock(tx.db))(owner, needs);
      return result.kind === "placed" ? Number(result.deviceId) : null;
    });
  }

  /** Fresh reads of the fleet `placement` made while `work` ran. */
  async function readsDuring(placement: Placement, work: () => Promise<unknown>): Promise<number> {
    return (await fleetReadsDuring(placement, work)).reads;
  }

  /** How `placement` came by the fleet while `work` ran: fresh reads, catch-ups, indexes built. */
  async function fleetReadsDuring(
    placement: Placement,
    work: () => Promise<unknown>,
  ): Promise<{ reads: number; catchUps: number; indexBuilds: number }> {
    const { reads, catchUps, indexBuilds } = placement.fleet;
    await work();
    return {
      reads: placement.fleet.reads - reads,
      catchUps: placement.fleet.catchUps - catchUps,
      indexBuilds: placement.fleet.indexBuilds - indexBuilds,
    };
  }

  /** One catch-up through the change log, no fresh read; `index`: the kept index patched, none built. */
  const caughtUp = (index: boolean) => ({ reads: 0, catchUps: 1, indexBuilds: index ? 0 : 1 });
  const readAfresh = { reads: 1, catchUps: 0, indexBuilds: 1 };

  /** Ends the live parts on `deviceId` as another replica's connection would (an agent's final report). */
  const endPartsOn = (deviceId: number) =>
    otherStore.db
      .updateTable("run_devices")
      .set({ status: "FINISHED" })
      .where("device_id", "=", deviceId)
      .where("status", "!=", "FINISHED")
      .execute();

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
    assert.deepEqual(await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), null)), caughtUp(true));
  });

  test("a part ending elsewhere is caught up on, not read afresh: the freed GPUs go to the next launch, cheapest first", async () => {
    const cheap = await insertDevice(db(), owner, 1, clock.now, { price: 1 });
    const middle = await insertDevice(db(), owner, 1, clock.now, { price: 2 });
    const dear = await insertDevice(db(), owner, 1, clock.now, { price: 3 });
    assert.deepEqual(
      [await launch(mine), await launch(mine), await launch(mine), await launch(mine)],
      [cheap, middle, dear, null],
    );
    await endPartsOn(middle);
    assert.deepEqual(await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), middle)), caughtUp(true));
    await endPartsOn(dear);
    await endPartsOn(cheap);
    assert.deepEqual(
      await fleetReadsDuring(mine, async () => {
        assert.equal(await launch(mine), cheap, "the cheapest of the freed devices");
        assert.equal(await launch(mine), dear);
        assert.equal(await launch(mine), null);
      }),
      caughtUp(true),
    );
    // The same answer from a fresh read: the caught-up copy was the fleet as stored.
    assert.equal(await launch(placementOn(store)), null);
  });

  test(
    "a part ended by another connection while a placement's transaction is open is caught up on from the version it read",
    { skip: !onPostgres },
    async () => {
      // Its end takes the version after the one the placement read, the placement's own part
      // the next: the copy's label (read + 1) is not where the copy stands.
      const cheap = await insertDevice(db(), owner, 1, clock.now, { price: 1 });
      const dear = await insertDevice(db(), owner, 1, clock.now, { price: 2 });
      assert.equal(await launch(mine), cheap);
      assert.equal(await launch(mine, 1, false, () => endPartsOn(cheap)), dear);
      assert.deepEqual(
        await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), cheap, "the cheap device is free again")),
        caughtUp(true),
      );
    },
  );

  test("a copy the change log no longer reaches back to, or that would catch up on too many devices, is read afresh", async () => {
    const device = await insertDevice(db(), owner, 1, clock.now);
    await launch(mine);
    await endPartsOn(device);
    // As pruning leaves the log: its oldest rows gone.
    await sql`delete from fleet_changes`.execute(db());
    assert.deepEqual(await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), device)), readAfresh);
    // 2,100 devices back from OFFLINE in one statement: past what a catch-up reads (and on
    // PostgreSQL past what one commit lists).
    const rows = await insertDevices(2_100, "OFFLINE");
    assert.equal(await wouldGet(mine), null);
    await db().updateTable("devices").set({ status: "IDLE" }).where("id", "in", rows).execute();
    assert.deepEqual(await fleetReadsDuring(mine, async () => assert.notEqual(await wouldGet(mine), null)), readAfresh);
  });

  test("another replica's pass over more devices than a catch-up reads has the copy here read afresh", async () => {
    // 2,100 devices and as many runs: one pass places them all (its windows reach 4,250 runs of
    // one user); on PostgreSQL it logs "read everything" under its one bump, on SQLite its
    // parts' rows log 2,100 devices.
    const devices = await insertDevices(2_100, "IDLE");
    assert.notEqual(await wouldGet(mine), null);
    const project = await db()
      .insertInto("projects")
      .values({ owner_id: owner, name: "bulk", created_at: clock.now })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (let at = 0; at < devices.length; at += 500) {
      await db()
        .insertInto("runs")
        .values(
          devices
            .slice(at, at + 500)
            .map((_, i) => runRow(owner, project.id, gpuJobYaml(1), `bulk-${at + i}`, clock.now + at + i)),
        )
        .execute();
    }
    assert.equal(await theirs.placeQueued(), devices.length);
    const { rows: logged } = await sql<{ device_id: number | null }>`
      select device_id from fleet_changes where version = (select fleet_version from placement_inputs where id = 1)`.execute(
      db(),
    );
    if (store.dialect === "postgres") assert.deepEqual(logged, [{ device_id: null }]);
    else assert.ok(logged.length === 1 && logged[0].device_id !== null, "SQLite: the last part's row logged its device");
    assert.deepEqual(
      await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), null, "every GPU is taken")),
      readAfresh,
    );
  });

  test("a part moved to another device is caught up on both devices", async () => {
    const cheap = await insertDevice(db(), owner, 1, clock.now, { price: 1 });
    const dear = await insertDevice(db(), owner, 1, clock.now, { price: 2 });
    assert.equal(await launch(mine), cheap);
    // Kept again at the launch's label: the move alone is past it.
    assert.equal(await wouldGet(mine), dear);
    await db().updateTable("run_devices").set({ device_id: dear }).where("device_id", "=", cheap).execute();
    assert.deepEqual(
      await fleetReadsDuring(mine, async () => {
        assert.equal(await launch(mine), cheap, "the device it left is free");
        assert.equal(await launch(mine), null, "the one it went to is not");
      }),
      caughtUp(true),
    );
  });

  test("the change log is pruned as the version grows", async () => {
    const device = await insertDevice(db(), owner, 1, clock.now);
    const logged = await readFleetVersion(db());
    const count = async (upTo: number) =>
      Number(
        (await sql<{ n: number | string }>`select count(*) as n from fleet_changes where version <= ${upTo}`.execute(db()))
          .rows[0].n,
      );
    assert.ok((await count(logged)) > 0);
    // The version far on (as 70,000 changes would leave it), one short of a pruning point.
    const pruneAt = Math.ceil((logged + FLEET_LOG_KEEP + 1) / 4096) * 4096;
    await sql`update placement_inputs set fleet_version = ${pruneAt - 1} where id = 1`.execute(db());
    await db().updateTable("devices").set({ max_jobs: 2 }).where("id", "=", device).execute();
    assert.equal(await readFleetVersion(db()), pruneAt);
    assert.equal(await count(logged), 0, "rows further back than the log keeps are gone");
    assert.equal(await count(pruneAt), (await sql`select * from fleet_changes`.execute(db())).rows.length);
    assert.ok((await count(pruneAt)) > 0, "the change just made is logged");
  });

  test("a part that ends, and each kind of device or cluster change, is seen by the next placement", async () => {
    const device = await insertDevice(db(), owner, 1, clock.now);
    await launch(mine);
    await db().updateTable("run_devices").set({ status: "FINISHED" }).execute();
    assert.deepEqual(await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), device)), caughtUp(true));
    await db().updateTable("run_devices").set({ status: "FINISHED" }).execute();

    // A device's change is caught up on (its row read again, the index built anew); a
    // cluster's is read afresh.
    const gone = (label: string, change: () => Promise<unknown>, undo: () => Promise<unknown>, cluster = false) => ({
      label,
      change,
      undo,
      cluster,
    });
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
        true,
      ),
    ];
    for (const { label, change, undo, cluster } of changes) {
      // Kept, with the device free: a launch from the copy would go there.
      await keep(mine);
      await change();
      assert.deepEqual(
        await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), null, label)),
        cluster ? readAfresh : { reads: 0, catchUps: 1, indexBuilds: 1 },
        label,
      );
      await undo();
      assert.equal(await launch(mine), device, `${label} undone: the device is used again`);
      await db().updateTable("run_devices").set({ status: "FINISHED" }).execute();
    }
  });

  test(
    "a change committed by another connection while a placement's transaction is open is caught up on",
    { skip: !onPostgres },
    async () => {
      // (SQLite has one writer at a time: no other write can land meanwhile.)
      const device = await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
      await launch(mine);
      const ended = () => otherStore.db.updateTable("run_devices").set({ status: "FINISHED" }).execute();
      assert.equal(await launch(mine, 1, false, ended), device);
      assert.deepEqual(
        await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), device, "the first GPU is free again")),
        caughtUp(true),
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
    // The copy kept before it stays (its parts list was copied, not changed), its index (which
    // took the GPU) does not: the GPU is free, with no fresh read.
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), device)), 0);
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
    // The pass kept the fleet with its own part in it, labelled as its writes moved the version.
    assert.equal(
      await readsDuring(mine, async () => assert.equal(await launch(mine), null, "the pass's placement took the last GPU")),
      0,
    );
  });

  /** `count` devices of one A100 each, 500 a statement; answers their ids. */
  async function insertDevices(count: number, status: string): Promise<number[]> {
    const ids: number[] = [];
    for (let at = 0; at < count; at += 500) {
      const rows = Array.from({ length: Math.min(500, count - at) }, () => deviceRow(owner, 1, clock.now, { status }));
      ids.push(...(await db().insertInto("devices").values(rows).returning("id").execute()).map((r) => r.id));
    }
    return ids;
  }

  /** `count` QUEUED runs of the owner wanting `gpus` GPUs each; answers their ids. */
  async function queue(count: number, gpus = 1): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(await insertRun(db(), owner, gpuJobYaml(gpus), `r${++runs}`, clock.now + i));
    return ids;
  }

  const statusesOf = async (ids: number[]) =>
    (await db().selectFrom("runs").select("status").where("id", "in", ids).execute()).map((r) => r.status);

  test("a pass over several windows keeps the fleet as it left it: the pass and launches after it read nothing, and get no GPU it took", async () => {
    // 28 devices of 2 GPUs, 55 runs of 1: the first window places 50, the second 5; one GPU stays free.
    const devices: number[] = [];
    for (let i = 0; i < 28; i++) devices.push(await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 }));
    const waiting = await queue(55);
    assert.equal(await readsDuring(mine, () => mine.placeQueued()), 1, "the first pass reads the fleet");
    assert.deepEqual(new Set(await statusesOf(waiting)), new Set(["STARTING"]));
    const parts = await db().selectFrom("run_devices").select(["device_id", "gpu_indices_json"]).execute();
    assert.equal(parts.length, 55);
    const taken = new Map<number, number>();
    for (const part of parts) taken.set(part.device_id, (taken.get(part.device_id) ?? 0) + 1);
    const free = devices.find((d) => (taken.get(d) ?? 0) < 2);
    await queue(1, 2);
    assert.equal(
      await readsDuring(mine, async () => {
        assert.equal(await mine.placeQueued(), 0, "no device has 2 GPUs free after the pass");
        assert.equal(await launch(mine, 2), null, "nor for a launch");
        assert.equal(await launch(mine), free, "the one GPU the pass left");
        assert.equal(await launch(mine), null, "every GPU is taken");
      }),
      0,
    );
    // The same answers from a fresh read: the kept copy was the fleet as stored.
    assert.equal(await launch(placementOn(store)), null);
  });

  test("a pass's cluster runs and queued runs are both in the fleet it keeps", async () => {
    const reserved = await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
    const open = await insertDevice(db(), owner, 2, clock.now, { maxJobs: 2 });
    const cluster = await insertReservingCluster(db(), owner, reserved, clock.now);
    const [onCluster] = await queue(1);
    await db().updateTable("runs").set({ status: "CLUSTER_QUEUE", cluster_id: cluster }).where("id", "=", onCluster).execute();
    const [queued] = await queue(1);
    await keep(mine);
    assert.equal(await readsDuring(mine, () => mine.placeQueued()), 0);
    assert.deepEqual(await statusesOf([onCluster, queued]), ["STARTING", "STARTING"]);
    const clusterPart = await db()
      .selectFrom("run_devices")
      .select("device_id")
      .where("run_id", "=", onCluster)
      .executeTakeFirstOrThrow();
    assert.equal(clusterPart.device_id, reserved);
    assert.equal(
      await readsDuring(mine, async () => {
        assert.equal(await launch(mine), open, "the queued run took one GPU of the open device");
        assert.equal(await launch(mine), null, "the reserved device serves its cluster only");
        const onItsCluster = jobNeeds(parseJobYaml(gpuJobYaml(2)), null, owner);
        await transition({ db: db(), hub: new NotifyHub(), log }, async (tx) => {
          const match = await mine.lock(tx.db);
          assert.notEqual((await match(owner, onItsCluster, cluster)).kind, "placed", "the cluster run holds one of its 2 GPUs");
        });
      }),
      0,
    );
  });

  test("a pass that decided a run it did not write, or rolled back, keeps no index with those GPUs taken", async () => {
    const device = await insertDevice(db(), owner, 1, clock.now);
    await keep(mine);
    const node = { deviceId: String(device), gpuIndices: [0] };
    // Decided on the index, then claimed nothing (the run was stopped meanwhile): not exact.
    await transition({ db: db(), hub: new NotifyHub(), log }, async (tx) => {
      const open = await mine.fleet.open(tx.db);
      open.indexForPass().take([node]);
      open.passWrote([], 0, false);
    });
    assert.equal(await readsDuring(mine, async () => assert.equal(await wouldGet(mine), device)), 0);
    // Decided, then the transaction rolled back.
    await assert.rejects(
      transition({ db: db(), hub: new NotifyHub(), log }, async (tx) => {
        const open = await mine.fleet.open(tx.db);
        open.indexForPass().take([node]);
        throw new RolledBack();
      }),
      RolledBack,
    );
    assert.equal(await readsDuring(mine, async () => assert.equal(await launch(mine), device)), 0);
  });

  test("a placing pass's writes move the version by what the kept copy's label counts", async () => {
    await insertDevice(db(), owner, 4, clock.now, { maxJobs: 4 });
    await keep(mine);
    const before = await readFleetVersion(db());
    await queue(3);
    assert.equal(await mine.placeQueued(), 3);
    // One per part on SQLite (row triggers); once for the whole pass on PostgreSQL (its claims count nothing).
    assert.equal((await readFleetVersion(db())) - before, store.dialect === "postgres" ? 1 : 3);
    // Another replica's pass: this one's copy is out of date, and caught up (on PostgreSQL the
    // pass logs the devices it placed on under its one bump).
    await queue(1);
    assert.equal(await theirs.placeQueued(), 1);
    assert.deepEqual(
      await fleetReadsDuring(mine, async () => assert.equal(await launch(mine), null, "all 4 GPUs are taken")),
      caughtUp(true),
    );
  });
});
