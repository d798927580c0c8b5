// Every multi-row change lands wholly or not at all. A test hook fails the k-th write of a
// change, for k = 1, 2, ... until the change gets through: after every failed try the store
// must be exactly as before, and the change that finally lands must be right (e.g. a gang
// run gets one node 0, one part per device). Runs on SQLite, and on PostgreSQL in the
// second pass (scripts/postgres-tests.txt).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DeviceFacts, type LaunchRequest, ParsePool } from "@fedml/core";
import Fastify from "fastify";
import type { Kysely } from "kysely";
import { DeviceTokens } from "../src/auth/device-tokens.js";
import { KeyCache } from "../src/auth/key-cache.js";
import { actOnClusters } from "../src/clusters/actions.js";
import { systemClock } from "../src/clock.js";
import { resolveOptions } from "../src/config.js";
import type { ServerContext } from "../src/context.js";
import { NotifyHub } from "../src/notify.js";
import { sweepOfflineDevices } from "../src/devices/offline-sweep.js";
import { failParts } from "../src/runs/end-parts.js";
import { launchRun } from "../src/runs/launch.js";
import { applyStatusReport } from "../src/runs/status-report.js";
import { stopRun } from "../src/runs/stop.js";
import { Placement } from "../src/scheduler/placement.js";
import { grantCredit } from "../src/store/credit.js";
import { type Store, openPostgres, openSqlite } from "../src/store/db.js";
import { insertDevice } from "../src/store/devices.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { listRunDevices } from "../src/store/runs.js";
import type { Database } from "../src/store/schema.js";
import { type UserRow, insertUser } from "../src/store/users.js";
import { Heartbeats } from "../src/devices/heartbeats.js";
import { ServerLiveness } from "../src/devices/liveness.js";
import { ReplicaLoad } from "../src/serving/replica-load.js";
import { TunnelHub } from "../src/serving/tunnel-hub.js";
import { takePlacementLock } from "../src/store/transaction.js";
import { type StoreWrite, WriteFaults } from "../src/store/write-faults.js";
import { DatabaseBlobStore } from "../src/workspaces/database-blob-store.js";
import { databaseUrlFor, dropDatabaseFor, onPostgres } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

const NOW = 1_700_000_000_000;

const facts = (name: string, gpus: number, over: Partial<DeviceFacts> = {}): DeviceFacts => ({
  name,
  hostname: name,
  osType: "Linux",
  osVersion: "6.1",
  cpuCount: 4,
  memoryBytes: 8 * 2 ** 30,
  gpus: Array.from({ length: gpus }, (_, index) => ({ index, name: "NVIDIA A100-SXM4-80GB", memoryMiB: 81920 })),
  agentVersion: "0.1.0",
  address: `10.0.0.${name.length}`,
  provider: "self",
  region: "local",
  pricePerGpuHour: 0,
  shared: false,
  simulated: true,
  maxJobs: 1,
  ...over,
});

const gpuJob = (gpus: number, extra = "") =>
  `job: echo hi\ncomputing:\n  minimum_num_gpus: ${gpus}\n  maximum_cost_per_hour: 100\n${extra}`;

/** A server's state over one store: the context request handlers get, with a write-fault hook. */
interface Harness {
  ctx: ServerContext;
  store: Store;
  /** Fail the k-th write from now on (null: none). */
  failAt(k: number | null): void;
  /** Writes seen since the last failAt. */
  writes(): number;
  clock: { now: number };
}

async function openStore(home: string): Promise<Store> {
  const url = await databaseUrlFor(home);
  return url ? openPostgres(url) : openSqlite(join(home, "server", "fedml.db"));
}

/** `fault`: also called before every write (throwing fails it), beside the counted faults. */
async function harness(home: string, shared?: Store, fault?: (write: StoreWrite) => void): Promise<Harness> {
  const store = shared ?? (await openStore(home));
  if (!shared) await migrateToLatest(store.db, store.dialect);
  let faultAt: number | null = null;
  let seen = 0;
  const db = store.db.withPlugin(
    new WriteFaults((write) => {
      fault?.(write);
      if (faultAt === null) return;
      seen++;
      if (seen === faultAt) throw new Error(`injected fault at write ${seen}`);
    }),
  );
  const clock = { now: NOW };
  const hub = new NotifyHub();
  const log = Fastify({ logger: { level: "silent" } }).log;
  const isOnline = () => true;
  const placement = new Placement({ db, hub, log, onlineTest: () => isOnline, now: () => clock.now });
  const ctx: ServerContext = {
    db,
    blobs: new DatabaseBlobStore(),
    options: resolveOptions({ home }),
    hub,
    log,
    placement,
    jobYaml: new ParsePool(),
    tunnels: new TunnelHub(),
    replicaLoad: new ReplicaLoad(),
    publicUrl: () => "http://127.0.0.1:1",
    now: () => clock.now,
    onlineTest: () => isOnline,
    liveness: new ServerLiveness(systemClock, 10_000),
    heartbeats: new Heartbeats({ db, flushMs: 10, onRevived: () => {}, onError: () => {} }),
    keys: new KeyCache({ db, hub, now: () => clock.now }),
    deviceTokens: new DeviceTokens(db, hub),
  };
  return {
    ctx,
    store,
    clock,
    failAt: (k) => {
      faultAt = k;
      seen = 0;
    },
    writes: () => seen,
  };
}

const TABLES = [
  "users",
  "projects",
  "devices",
  "runs",
  "run_devices",
  "clusters",
  "cluster_devices",
  "endpoints",
  "credit_ledger",
] as const;

/** Every row the control plane's state is made of, in a stable order. */
/** Closes what harness() opened and drops its database and folder. */
async function closeHarness(h: Harness, tmp: { dir: string; cleanup: () => void }): Promise<void> {
  await h.store.close();
  await h.ctx.jobYaml.close();
  h.ctx.hub.close();
  await dropDatabaseFor(tmp.dir);
  tmp.cleanup();
}

async function snapshot(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    // biome-ignore lint/suspicious/noExplicitAny: every table, read whole.
    const rows = await (db as Kysely<any>).selectFrom(table).selectAll().execute();
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

/**
 * Runs `change` with its 1st, 2nd, ... write failing until it gets through; after each
 * failure the store must be exactly as before. Answers the change's result and how many
 * writes it made.
 */
async function wholly<T>(
  h: Harness,
  label: string,
  change: () => Promise<T>,
  minWrites = 2,
): Promise<{ result: T; writes: number }> {
  const before = await snapshot(h.store.db);
  for (let k = 1; k < 200; k++) {
    h.failAt(k);
    try {
      const result = await change();
      const writes = h.writes();
      h.failAt(null);
      assert.ok(writes < k, `${label}: the fault at write ${k} was swallowed`);
      assert.ok(writes >= minWrites, `${label}: ${minWrites}+ writes expected, yet ${writes}`);
      return { result, writes };
    } catch (err) {
      h.failAt(null);
      if (!(err instanceof Error) || !err.message.startsWith("injected fault")) throw err;
      assert.deepEqual(await snapshot(h.store.db), before, `${label}: a fault at write ${k} left the store half changed`);
    }
  }
  throw new Error(`${label}: never got through`);
}

describe("atomic transitions under injected write faults", () => {
  const tmp = tempDir("atomic");
  let h: Harness;
  let alice: UserRow;
  let bob: UserRow;
  let devices: number[];
  let firstRun: number;

  before(async () => {
    h = await harness(tmp.dir);
    const { db } = h.ctx;
    alice = (await insertUser(db, "alice", false, NOW)) as UserRow;
    bob = (await insertUser(db, "bob", false, NOW)) as UserRow;
    await grantCredit(db, alice.id, 1000 * 1_000_000, "test", NOW); // $1,000 in micro-dollars
    // Bob's two shared, paid machines with 2 GPUs each: a 4-GPU job is a gang over both.
    devices = [];
    for (const name of ["b-one", "b-two"]) {
      const row = await insertDevice(db, bob.id, facts(name, 2, { shared: true, pricePerGpuHour: 1 }), `tok-${name}`, NOW);
      devices.push(row.id);
    }
  });
  after(() => closeHarness(h, tmp));

  const launch = (yamlText: string, over: Partial<LaunchRequest> = {}) =>
    launchRun(h.ctx, alice, { yamlText, workspaceSha256: null, ...over } as LaunchRequest);
  const runRow = (id: string | number) =>
    h.store.db.selectFrom("runs").selectAll().where("id", "=", Number(id)).executeTakeFirstOrThrow();
  const assertOneGang = async (runId: number, deviceCount: number) => {
    const parts = await listRunDevices(h.store.db, [runId]);
    assert.deepEqual(
      parts.map((p) => p.node_index).sort(),
      Array.from({ length: deviceCount }, (_, i) => i),
      "one part per node index",
    );
    assert.equal(new Set(parts.map((p) => p.device_id)).size, deviceCount, "one part per device");
  };
  const finishAll = async (runId: number) => {
    for (const part of await listRunDevices(h.store.db, [runId])) {
      await applyStatusReport(h.ctx, runId, part.device_id, { status: "FINISHED", exitCode: 0 });
    }
  };

  test("launch + placement of a gang run", async () => {
    const { result, writes } = await wholly(h, "launch", () => launch(gpuJob(4)));
    assert.equal(result.resultCode, 0, result.resultMsg);
    // At least: the run, its claim, its parts (one multi-row insert), its devices' bumps.
    assert.ok(writes >= 4, `launch made ${writes} writes`);
    assert.equal((await runRow(result.runId as string)).status, "STARTING");
    await assertOneGang(Number(result.runId), 2);
    firstRun = Number(result.runId);
  });

  test("a part's final report with charge, payout and roll-up; stop; a queued gang placed by the pass", async () => {
    const running = firstRun;
    for (const part of await listRunDevices(h.store.db, [running])) {
      await applyStatusReport(h.ctx, running, part.device_id, { status: "RUNNING" });
    }
    const waiting = await launch(gpuJob(4));
    assert.equal(waiting.resultCode, 5, waiting.resultMsg);

    h.clock.now += 3_600_000;
    const [first, second] = await listRunDevices(h.store.db, [running]);
    await wholly(h, "final report", () =>
      applyStatusReport(h.ctx, running, first.device_id, { status: "FINISHED", exitCode: 0 }),
    );
    const ledger = await h.store.db.selectFrom("credit_ledger").selectAll().where("run_id", "=", running).execute();
    assert.deepEqual(ledger.map((l) => [l.kind, l.amount_micros]).sort(), [
      ["charge", -2_000_000],
      ["earning", 2_000_000],
    ]);

    await wholly(h, "stop", () => stopRun(h.ctx, running));
    assert.equal((await runRow(running)).status, "STOPPING");
    await wholly(h, "last report", () => applyStatusReport(h.ctx, running, second.device_id, { status: "KILLED" }));
    assert.equal((await runRow(running)).status, "KILLED");

    const { result: placed } = await wholly(h, "queue pass", () => h.ctx.placement.placeQueued());
    assert.equal(placed, 1);
    assert.equal((await runRow(waiting.runId as string)).status, "STARTING");
    await assertOneGang(Number(waiting.runId), 2);
    // The next pass finds nothing left to do: no second node 0, no duplicate row.
    assert.equal(await h.ctx.placement.placeQueued(), 0);
    await assertOneGang(Number(waiting.runId), 2);
    await finishAll(Number(waiting.runId));
  });

  test("a lost device fails the part, stops the gang and retries the run", async () => {
    const launched = await launch(gpuJob(4, "  retry:\n    limit: 1\n"));
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const runId = Number(launched.runId);
    const [lost] = await listRunDevices(h.store.db, [runId]);
    await wholly(h, "fail + retry", () => failParts(h.ctx, [lost], "device went offline"));
    const failed = await runRow(runId);
    assert.equal(failed.status, "FAILED");
    const retries = await h.store.db.selectFrom("runs").selectAll().where("retry_of", "=", runId).execute();
    assert.equal(retries.length, 1);
    assert.equal(retries[0].status, "QUEUED");
    for (const part of await listRunDevices(h.store.db, [runId])) {
      if (part.device_id !== lost.device_id) await applyStatusReport(h.ctx, runId, part.device_id, { status: "KILLED" });
    }
    assert.equal(await h.ctx.placement.placeQueued(), 1);
    await assertOneGang(retries[0].id, 2);
    await finishAll(retries[0].id);
  });

  test("the offline sweep fails every lost part of a device in one transaction", async () => {
    // Alice's own machine (free to her, so the matcher picks it) running two of her runs.
    const lostDevice = await insertDevice(h.ctx.db, alice.id, facts("a-lost", 2, { maxJobs: 2 }), "tok-a-lost", NOW);
    const runIds: number[] = [];
    for (let i = 0; i < 2; i++) {
      const launched = await launch(gpuJob(1));
      assert.equal(launched.resultCode, 0, launched.resultMsg);
      runIds.push(Number(launched.runId));
    }
    const parts = await listRunDevices(h.store.db, runIds);
    assert.deepEqual(
      parts.map((p) => p.device_id),
      [lostDevice.id, lostDevice.id],
    );
    const started = h.clock.now;
    const clock = { wall: () => h.clock.now, mono: () => h.clock.now };
    const sweepCtx = { ...h.ctx, liveness: new ServerLiveness(clock, Number.POSITIVE_INFINITY) };
    /** Moves the clock on, every other device still heard from: only a-lost falls silent. */
    const silentFor = async (ms: number) => {
      h.clock.now = started + ms;
      await h.store.db.updateTable("devices").set({ last_seen_at: h.clock.now }).where("id", "!=", lostDevice.id).execute();
    };
    try {
      await silentFor(h.ctx.options.offlineAfterMs + 1);
      await sweepOfflineDevices(sweepCtx); // OFFLINE now; its parts are not lost yet
      await silentFor(h.ctx.options.partLostAfterMs + 1);
      // A fault at any write, the second part's included, leaves both parts as they were.
      const { result } = await wholly(h, "offline sweep", () => sweepOfflineDevices(sweepCtx));
      assert.equal(result, 1, "one device's parts");
      for (const id of runIds) assert.equal((await runRow(id)).status, "FAILED");
    } finally {
      h.clock.now = started;
    }
  });

  test("cluster create, stop, start and kill", async () => {
    const { result: created } = await wholly(h, "cluster create", () => launch(gpuJob(2), { cluster: "c1" }));
    assert.equal(created.resultCode, 0, created.resultMsg);
    await assertOneGang(Number(created.runId), 1);
    const act = (action: "start" | "stop" | "kill") => actOnClusters(h.ctx, alice, action, { names: ["c1"] });

    await wholly(h, "cluster stop", () => act("stop"));
    assert.equal((await runRow(created.runId as string)).status, "STOPPING");
    await finishAll(Number(created.runId));
    // Back on the same devices: one write (its state); elsewhere it would take new ones too.
    const { result: started } = await wholly(h, "cluster start", () => act("start"), 1);
    assert.equal(started.done, true, JSON.stringify(started.failures));
    const queued = await launch(gpuJob(2), { cluster: "c1" });
    assert.equal(queued.resultCode, 0, queued.resultMsg);
    await wholly(h, "cluster kill", () => act("kill"));
    const cluster = await h.store.db.selectFrom("clusters").selectAll().where("name", "=", "c1").executeTakeFirstOrThrow();
    assert.equal(cluster.state, "terminated");
    assert.equal((await runRow(queued.runId as string)).status, "STOPPING");
    await finishAll(Number(queued.runId));
  });

  test("endpoint lifecycle: a serve run's endpoint is made with the run and removed with its stop", async () => {
    const { result } = await wholly(h, "serve launch", () => launch("job_type: serve\njob: sleep 60\n"));
    assert.equal(result.resultCode, 0, result.resultMsg);
    const endpoint = () =>
      h.store.db.selectFrom("endpoints").selectAll().where("run_id", "=", Number(result.runId)).executeTakeFirstOrThrow();
    assert.equal((await endpoint()).status, "DEPLOYING");
    await wholly(h, "serve stop", () => stopRun(h.ctx, Number(result.runId)));
    assert.equal((await endpoint()).status, "REMOVED");
    await finishAll(Number(result.runId));
  });

  test("a federated run waits for its devices and the pass places server and edges together", async () => {
    const blocker = await launch(gpuJob(2));
    assert.equal(blocker.resultCode, 0, blocker.resultMsg);
    const fed = await launch(
      "job_type: federate\nserver_job: echo s\njob: echo e\ncomputing:\n  minimum_num_gpus: 2\n  maximum_cost_per_hour: 100\n  num_edges: 1\n",
    );
    assert.equal(fed.resultCode, 5, fed.resultMsg);
    assert.match((await runRow(fed.runId as string)).reason ?? "", /waiting for 2 devices to be free at once/);
    await finishAll(Number(blocker.runId));
    const { result: placed } = await wholly(h, "federated pass", () => h.ctx.placement.placeQueued());
    assert.equal(placed, 1);
    const parts = await listRunDevices(h.store.db, [Number(fed.runId)]);
    assert.deepEqual(parts.map((p) => p.rank).sort(), [0, 1]);
    assert.equal(new Set(parts.map((p) => p.device_id)).size, 2);
    await finishAll(Number(fed.runId));
    // Devices that could never hold it: refused, nothing stored.
    const never = await launch(
      "job_type: federate\nserver_job: echo s\njob: echo e\ncomputing:\n  minimum_num_gpus: 2\n  maximum_cost_per_hour: 100\n  num_edges: 3\n",
    );
    assert.equal(never.resultCode, 8, never.resultMsg);
    assert.equal(never.runId, null);
  });
});

describe("plain launches asked together share one transaction", () => {
  const tmp = tempDir("launch-group");
  let h: Harness;
  let carol: UserRow;
  let failEndpoints = false;
  const serveJob = "job_type: serve\njob: sleep 60\n";

  before(async () => {
    h = await harness(tmp.dir, undefined, (write) => {
      if (failEndpoints && write.table === "endpoints") throw new Error("injected fault: no endpoint");
    });
    carol = (await insertUser(h.ctx.db, "carol", false, NOW)) as UserRow;
    await insertDevice(h.ctx.db, carol.id, facts("c-eight", 8, { maxJobs: 8 }), "tok-c-eight", NOW);
    // Read once, so that the launches below are all ready in the same turn (their specs cached).
    for (const text of [gpuJob(1), serveJob]) await h.ctx.jobYaml.parse(text, { path: "job.yaml" });
  });
  after(() => closeHarness(h, tmp));

  const launch = (yamlText: string) => launchRun(h.ctx, carol, { yamlText, workspaceSha256: null } as LaunchRequest);
  const finishAll = async () => {
    const live = await h.store.db.selectFrom("run_devices").selectAll().where("status", "=", "QUEUED").execute();
    for (const part of live) await applyStatusReport(h.ctx, part.run_id, part.device_id, { status: "FINISHED", exitCode: 0 });
  };

  test("together they cost fewer statements than one after another, and each is placed on GPUs of its own", async () => {
    let before = h.store.statements();
    for (let i = 0; i < 4; i++) assert.equal((await launch(gpuJob(1))).resultCode, 0);
    const apart = h.store.statements() - before;
    await finishAll();
    before = h.store.statements();
    const answers = await Promise.all(Array.from({ length: 4 }, () => launch(gpuJob(1))));
    const together = h.store.statements() - before;
    // Apart, each launch begins, reads the fleet and commits; together, that is done once.
    assert.ok(together < apart - 6, `4 launches together ran ${together} statements, one after another ${apart}`);
    assert.deepEqual(
      answers.map((a) => a.resultCode),
      [0, 0, 0, 0],
    );
    assert.equal(new Set(answers.map((a) => a.runId)).size, 4, "each answered with its own run");
    const parts = await listRunDevices(
      h.store.db,
      answers.map((a) => Number(a.runId)),
    );
    const gpus = parts.flatMap((p) => JSON.parse(p.gpu_indices_json) as number[]);
    assert.equal(new Set(gpus).size, 4, `a GPU given twice within one transaction: ${gpus}`);
    await finishAll();
  });

  test("one launch's error is its own: the others asked with it are placed, and the failed one stores nothing", async () => {
    failEndpoints = true;
    try {
      const answers = await Promise.allSettled([launch(gpuJob(1)), launch(serveJob), launch(gpuJob(1)), launch(gpuJob(1))]);
      const failed = answers[1];
      assert.equal(failed.status, "rejected");
      assert.match(String((failed as PromiseRejectedResult).reason), /injected fault: no endpoint/);
      const placed = answers.filter((_a, i) => i !== 1) as PromiseFulfilledResult<{ resultCode: number; runId: string | null }>[];
      assert.deepEqual(
        placed.map((a) => [a.status, a.value.resultCode]),
        [
          ["fulfilled", 0],
          ["fulfilled", 0],
          ["fulfilled", 0],
        ],
      );
      const serveRuns = await h.store.db.selectFrom("runs").select("id").where("job_type", "=", "serve").execute();
      assert.deepEqual(serveRuns, [], "the failed launch stored no run");
      const live = await h.store.db.selectFrom("run_devices").selectAll().where("status", "=", "QUEUED").execute();
      assert.deepEqual(live.map((p) => p.run_id).sort(), placed.map((a) => Number(a.value.runId)).sort());
    } finally {
      failEndpoints = false;
    }
  });
});

describe("placement is serialised by the database, not by one process", () => {
  const tmp = tempDir("atomic-race");
  const harnesses: Harness[] = [];
  after(async () => {
    for (const h of harnesses) {
      await h.ctx.jobYaml.close();
      h.ctx.hub.close();
    }
    for (const store of new Set(harnesses.map((h) => h.store))) await store.close();
    await dropDatabaseFor(tmp.dir);
    tmp.cleanup();
  });

  test("two servers' launches and queue passes on one store never put two runs on one GPU", async () => {
    // Two contexts over two connections (pools) to one database: what two server processes
    // are. SQLite is one process's database (better-sqlite3 waits for a lock synchronously, so
    // two connections in one thread would wait on each other): there both share one.
    const one = await harness(tmp.dir);
    harnesses.push(one);
    const two = await harness(tmp.dir, onPostgres ? undefined : one.store);
    harnesses.push(two);
    const user = (await insertUser(one.ctx.db, "carol", false, NOW)) as UserRow;
    for (const name of ["c-one", "c-two", "c-three"]) {
      await insertDevice(one.ctx.db, user.id, facts(name, 2, { maxJobs: 2 }), `tok-${name}`, NOW);
    }
    const launches = Array.from({ length: 24 }, (_, i) =>
      launchRun(i % 2 === 0 ? one.ctx : two.ctx, user, { yamlText: gpuJob(1), workspaceSha256: null } as LaunchRequest),
    );
    const results = await Promise.all([...launches, one.ctx.placement.placeQueued(), two.ctx.placement.placeQueued()]);
    const codes = results.slice(0, 24).map((r) => (r as { resultCode: number }).resultCode);
    assert.equal(codes.filter((c) => c === 0).length, 6, `6 GPUs, 6 placed: ${codes}`);
    assert.equal(codes.filter((c) => c === 5).length, 18);
    const parts = await one.store.db.selectFrom("run_devices").selectAll().execute();
    const held = parts.flatMap((p) => (JSON.parse(p.gpu_indices_json) as number[]).map((g) => `${p.device_id}:${g}`));
    assert.equal(new Set(held).size, held.length, `a GPU held twice: ${held}`);
    // Passes from both sides race to place what frees up; still one run per GPU.
    for (const p of parts) await applyStatusReport(one.ctx, p.run_id, p.device_id, { status: "FINISHED", exitCode: 0 });
    await Promise.all([one.ctx.placement.placeQueued(), two.ctx.placement.placeQueued(), one.ctx.placement.placeQueued()]);
    const live = await one.store.db.selectFrom("run_devices").selectAll().where("status", "=", "QUEUED").execute();
    assert.equal(live.length, 6);
    const liveHeld = live.flatMap((p) => (JSON.parse(p.gpu_indices_json) as number[]).map((g) => `${p.device_id}:${g}`));
    assert.equal(new Set(liveHeld).size, 6, `a GPU held twice: ${liveHeld}`);
  });

  test("a replica's queue loop skips the pass while another holds the placement lock", { skip: !onPostgres }, async () => {
    const [one, two] = harnesses;
    // A change since two's last pass (a device joins): else that pass is skipped as quiet
    // (scheduler/quiet-passes.ts) before it asks for the lock.
    const user = (await insertUser(one.ctx.db, "erin", false, NOW)) as UserRow;
    await insertDevice(one.ctx.db, user.id, facts("d-busy", 1), "tok-d-busy", NOW);
    let whileHeld: number | null | undefined;
    await one.store.db.transaction().execute(async (trx) => {
      await takePlacementLock(trx);
      whileHeld = await two.ctx.placement.placeQueuedUnlessBusy();
    });
    assert.equal(whileHeld, null, "busy: left to the holder");
    assert.equal(typeof (await two.ctx.placement.placeQueuedUnlessBusy()), "number", "free again after its commit");
  });

  test("a gang's parts ending at once through two servers roll the run up from both", async () => {
    const [one, two] = harnesses;
    const user = (await insertUser(one.ctx.db, "dave", false, NOW)) as UserRow;
    for (const name of ["d-one", "d-two"]) await insertDevice(one.ctx.db, user.id, facts(name, 2), `tok-${name}`, NOW);
    // Rounds enough that the two transactions interleave (without the run's row lock, a few
    // dozen rounds on PostgreSQL leave a run RUNNING with both parts ended).
    for (let i = 0; i < 40; i++) {
      const launched = await launchRun(one.ctx, user, { yamlText: gpuJob(4), workspaceSha256: null } as LaunchRequest);
      assert.equal(launched.resultCode, 0, launched.resultMsg);
      const runId = Number(launched.runId);
      const [a, b] = await listRunDevices(one.store.db, [runId]);
      for (const part of [a, b]) await applyStatusReport(one.ctx, runId, part.device_id, { status: "RUNNING" });
      // Each report's roll-up must see the other's part, whichever commits first.
      await Promise.all([
        applyStatusReport(one.ctx, runId, a.device_id, { status: "FINISHED", exitCode: 0 }),
        applyStatusReport(two.ctx, runId, b.device_id, { status: "FINISHED", exitCode: 0 }),
      ]);
      const run = await one.store.db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
      assert.equal(run.status, "FINISHED", `run ${runId} rolled up as ${run.status}`);
    }
  });
});
