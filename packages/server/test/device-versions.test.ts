// Held polls check their device's version when they arrive and on the shared tick; the reads
// asked in one turn go out together as one set read, and every caller gets its own device's
// version (on SQLite, or PostgreSQL with FEDML_TEST_DATABASE_URL). The answers' read of many
// devices' versions and live parts in one statement, likewise.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceVersionReader } from "../src/devices/device-versions.js";
import type { Store } from "../src/store/db.js";
import { bumpDeviceVersion, insertDevice } from "../src/store/devices.js";
import { listDevicesVersionAndLiveParts } from "../src/store/runs.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { insertUser } from "../src/store/users.js";
import { openTestStore } from "./support/database.js";
import { deviceFacts } from "./support/server.js";
import { insertPart, insertRun } from "./support/store-rows.js";
import { tempDir } from "./support/tmp.js";

const tmp = tempDir("device-versions");
let store: Store;
const ids: number[] = [];

before(async () => {
  store = await openTestStore(tmp.dir);
  await migrateToLatest(store.db, store.dialect);
  const user = await insertUser(store.db, "versions", false, Date.now());
  assert.ok(user);
  for (let i = 0; i < 5; i++) {
    const device = await insertDevice(store.db, user.id, deviceFacts(`v-${i}`), `token-${i}`, Date.now());
    ids.push(device.id);
    for (let k = 0; k < i; k++) await bumpDeviceVersion(store.db, device.id);
  }
});
after(async () => {
  await store.close();
  tmp.cleanup();
});

test("device versions: one device alone, and many in one turn, each get their own", async () => {
  const reader = new DeviceVersionReader(store.db);
  const base = await reader.version(ids[0]);
  assert.equal(typeof base, "number");
  const alone = await reader.version(ids[3]);
  assert.equal(alone, (base as number) + 3);
  const together = await Promise.all([...ids, ids[2]].map((id) => reader.version(id)));
  assert.deepEqual(
    together,
    [0, 1, 2, 3, 4, 2].map((k) => (base as number) + k),
  );
});

test("device versions: a device that is not there reads undefined, alone or with others", async () => {
  const reader = new DeviceVersionReader(store.db);
  assert.equal(await reader.version(987_654), undefined);
  const [missing, present] = await Promise.all([reader.version(987_654), reader.version(ids[1])]);
  assert.equal(missing, undefined);
  assert.equal(typeof present, "number");
});

test("device versions: a bump is read at once by the next check", async () => {
  const reader = new DeviceVersionReader(store.db);
  const before = await reader.version(ids[4]);
  await bumpDeviceVersion(store.db, ids[4]);
  assert.equal(await reader.version(ids[4]), (before as number) + 1);
});

test("devices' versions and live parts in one read: a row per live part, a row of nulls for none, nothing for no device", async () => {
  const user = await insertUser(store.db, "parts", false, Date.now());
  assert.ok(user);
  const [busy, idle, ended] = [ids[1], ids[2], ids[3]];
  const part = async (deviceId: number, nodeIndex: number, status: string) => {
    const runId = await insertRun(store.db, user.id, 'job: "true"\n', `parts-${deviceId}-${nodeIndex}`, 1, "RUNNING");
    await insertPart(store.db, runId, deviceId, nodeIndex, status);
    return runId;
  };
  // Inserted second node first: its run's id is the lower, and rows come by device, run and node.
  const second = await part(busy, 1, "RUNNING");
  const first = await part(busy, 0, "QUEUED");
  await part(ended, 0, "FINISHED");
  const reader = new DeviceVersionReader(store.db);
  const rows = await listDevicesVersionAndLiveParts(store.db, [ended, 987_654, busy, idle]);
  const view = rows.map((r) => [Number(r.id), r.run_id === null ? null : Number(r.run_id), r.status, r.gpu_indices_json]);
  assert.deepEqual(view, [
    [busy, second, "RUNNING", "[1]"],
    [busy, first, "QUEUED", "[0]"],
    [idle, null, null, null],
    [ended, null, null, null],
  ]);
  for (const r of rows) assert.equal(Number(r.version), await reader.version(Number(r.id)));
});
