import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { DeviceFacts } from "@fedml/core";
import { ensureAdmin } from "../src/auth/bootstrap-admin.js";
import { hashSecret } from "../src/auth/keys.js";
import type { Store } from "../src/store/db.js";
import { insertDevice, listUsableDevices, markDeviceOffline, touchDevice } from "../src/store/devices.js";
import { appendLogBatch, readLogRange } from "../src/store/logs.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { ensureProject } from "../src/store/projects.js";
import { insertRun, insertRunDevice, listLiveRunDevices } from "../src/store/runs.js";
import { findUserByKeyHash, insertApiKey, insertUser } from "../src/store/users.js";
import { openTestStore } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

export const facts = (name: string, over: Partial<DeviceFacts> = {}): DeviceFacts => ({
  name,
  hostname: name,
  osType: "Linux",
  osVersion: "6",
  cpuCount: 4,
  memoryBytes: 8 * 2 ** 30,
  gpus: [],
  agentVersion: "0.1.0",
  address: "127.0.0.1",
  provider: "self",
  region: "here",
  pricePerGpuHour: 0,
  shared: false,
  simulated: true,
  maxJobs: 2,
  ...over,
});

describe("store on a real database (SQLite file, or PostgreSQL when FEDML_TEST_DATABASE_URL is set)", () => {
  const tmp = tempDir("store");
  let store: Store;
  before(async () => {
    store = await openTestStore(tmp.dir);
    await migrateToLatest(store.db, store.dialect);
    await migrateToLatest(store.db, store.dialect); // a second start changes nothing
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  test("first start makes one admin and writes its key 0600; later starts do not", async () => {
    const file = await ensureAdmin(store.db, join(tmp.dir, "server"), 1);
    assert.ok(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(await ensureAdmin(store.db, join(tmp.dir, "server"), 2), null);
  });

  test("user names are unique and keys resolve only by hash", async () => {
    const u = await insertUser(store.db, "alice", false, 10);
    assert.ok(u);
    assert.equal(await insertUser(store.db, "alice", false, 11), undefined);
    await insertApiKey(store.db, u.id, hashSecret("fedml_secret"), 10);
    assert.equal((await findUserByKeyHash(store.db, hashSecret("fedml_secret")))?.name, "alice");
    assert.equal(await findUserByKeyHash(store.db, "fedml_secret"), undefined);
  });

  test("projects are made once per owner and name", async () => {
    const u = (await insertUser(store.db, "bob", false, 10))!;
    const a = await ensureProject(store.db, u.id, "default", 1);
    const b = await ensureProject(store.db, u.id, "default", 2);
    assert.equal(a.id, b.id);
  });

  test("usable devices: own and shared, not offline; a heartbeat revives an offline one", async () => {
    const carol = (await insertUser(store.db, "carol", false, 1))!;
    const dave = (await insertUser(store.db, "dave", false, 1))!;
    const mine = await insertDevice(store.db, carol.id, facts("c1"), "h1", 1);
    await insertDevice(store.db, dave.id, facts("d-shared", { shared: true }), "h2", 1);
    await insertDevice(store.db, dave.id, facts("d-private"), "h3", 1);
    let names = (await listUsableDevices(store.db, carol.id)).map((d) => d.name);
    assert.deepEqual(names, ["c1", "d-shared"]);
    // Heard at 1: not silent in a span that starts at 1, silent in one that starts at 2.
    assert.equal(await markDeviceOffline(store.db, mine.id, { before: 1, notAfter: 100 }), false);
    assert.equal(await markDeviceOffline(store.db, mine.id, { before: 2, notAfter: 100 }), true);
    names = (await listUsableDevices(store.db, carol.id)).map((d) => d.name);
    assert.deepEqual(names, ["d-shared"]);
    assert.equal(await touchDevice(store.db, mine.id, 5), true);
    assert.equal(await touchDevice(store.db, mine.id, 6), false);
  });

  test("log batches are stored once per seq and log_count is the highest seq", async () => {
    const erin = (await insertUser(store.db, "erin", false, 1))!;
    const project = await ensureProject(store.db, erin.id, "default", 1);
    const device = await insertDevice(store.db, erin.id, facts("e1"), "h4", 1);
    const run = await insertRun(store.db, {
      owner_id: erin.id,
      project_id: project.id,
      name: "r",
      status: "STARTING",
      job_type: "train",
      platform: "falcon",
      yaml_text: "",
      spec_json: "{}",
      workspace_sha256: null,
      resource_id: null,
      reason: null,
      exit_code: null,
      created_at: 1,
      started_at: null,
      ended_at: null,
      stop_requested: 0,
    });
    await insertRunDevice(store.db, {
      run_id: run.id,
      device_id: device.id,
      rank: 1,
      node_index: 0,
      status: "QUEUED",
      gpu_indices_json: "[]",
      exit_code: null,
      reason: null,
      started_at: null,
      ended_at: null,
      log_count: 0,
      price_per_gpu_hour_micros: 0,
      stop_requested: 0,
    });
    const line = (seq: number) => ({ seq, text: `line ${seq}`, stream: "stdout" as const, time: seq });
    const batch = Array.from({ length: 1200 }, (_, i) => line(i + 1));
    const quota = { runBytes: 1e9, userBytes: 1e9 };
    const acked = async (lines: ReturnType<typeof line>[]) => {
      const r = await appendLogBatch(store.db, run.id, device.id, lines, quota);
      return r.kind === "no_part" ? r.kind : `${r.kind} ${r.ackedSeq}`;
    };
    assert.equal(await acked(batch), "stored 1200");
    assert.equal(await acked(batch.slice(1000)), "stored 1200");
    assert.equal(await acked([line(1200), line(1201)]), "stored 1201");
    // A batch that does not continue the stored lines is refused; one with a gap inside is
    // stored up to the gap: the count is always the number of lines there are.
    assert.equal(await acked([line(1203)]), "gap 1201");
    assert.equal(await acked([line(2_147_483_647)]), "gap 1201");
    assert.equal(await acked([line(1202), line(2_147_483_647)]), "stored 1202");
    const rows = await readLogRange(store.db, run.id, device.id, 1199, 5000);
    assert.deepEqual(
      rows.map((r) => r.seq),
      [1199, 1200, 1201, 1202],
    );
    assert.equal((await listLiveRunDevices(store.db, [device.id])).length, 1);
  });
});
