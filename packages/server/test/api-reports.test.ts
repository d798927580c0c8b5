// What the dashboard's pages read, through the real HTTP API on a clock set to a known date:
// spending and earnings per day summed by the database (midnight moved by the caller's time
// zone), providers' earnings per device, offers by region, runs per device, a cluster's
// queued runs, and the admins' user list with balances and keys.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Clock } from "../src/clock.js";
import { waitFor } from "../../../test/support/wait.js";
import { type TestServer, deviceFacts, startTestServer } from "./support/server.js";

const HOUR = 3_600_000;
/** The server's wall clock starts at 20:00 UTC on 2026-11-28 and runs on in real time. */
const START = Date.UTC(2026, 10, 28, 20, 0, 0);
const offset = { wall: START - Date.now(), mono: 0 };
const clock: Clock = { wall: () => Date.now() + offset.wall, mono: () => performance.now() + offset.mono };
/** Time the server sleeps through. */
const pass = (ms: number) => {
  offset.wall += ms;
  offset.mono += ms;
};

let t: TestServer;
let renter: string;
let provider: string;
let device: { deviceId: string; deviceToken: string };
before(async () => {
  t = await startTestServer({ clock });
  provider = await t.createUser("seller");
  renter = await t.createUser("renter");
  const gpus = [{ index: 0, name: "A100-80GB", memoryMiB: 81920 }];
  device = await t.registerDevice(
    provider,
    deviceFacts("rented-a100", { gpus, pricePerGpuHour: 1, shared: true, provider: "runpod", region: "eu-west" }),
  );
  await t.call(t.adminKey, "POST", "/api/v1/users/renter/credit", { amount: 100 });
});
after(() => t.stop());

const gpuJob = "job: sleep 1000\ncomputing:\n  minimum_num_gpus: 1\n  maximum_cost_per_hour: $10\n";
const heartbeat = () => t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0");
const report = (runId: string, body: object) => t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, body);

/** A run on the rented device that runs `ms` and finishes (the renter is charged then). */
async function runFor(ms: number): Promise<void> {
  const launched = (await t.call(renter, "POST", "/api/v1/runs", { yamlText: gpuJob, workspaceSha256: null })).body;
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  await report(launched.runId, { status: "RUNNING" });
  pass(ms);
  await heartbeat();
  await report(launched.runId, { status: "FINISHED", exitCode: 0 });
  await waitFor("the charge", async () => {
    const ledger = (await t.call(renter, "GET", "/api/v1/me/credit")).body.ledger;
    return ledger.some((e: { kind: string; runId: string }) => e.kind === "charge" && e.runId === launched.runId);
  });
}

const near = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 0.001, `${what}: ${actual}, expected about ${expected}`);

test("spending and earnings per day: the ledger summed by day in the caller's time zone", async () => {
  await runFor(HOUR); // ends 21:00 UTC on the 28th: $1
  pass(4 * HOUR);
  await heartbeat();
  await runFor(HOUR / 2); // ends 01:30 UTC on the 29th: $0.50

  const utc = (await t.call(renter, "GET", "/api/v1/costs/daily?days=3")).body;
  assert.deepEqual(
    utc.dayList.map((d: { day: string }) => d.day),
    ["2026-11-27", "2026-11-28", "2026-11-29"],
  );
  near(utc.dayList[0].spent, 0, "nothing on the 27th");
  near(utc.dayList[1].spent, 1, "spent on the 28th");
  near(utc.dayList[2].spent, 0.5, "spent on the 29th");
  near(utc.spent, 1.5, "spent in all");
  assert.equal(utc.earned, 0);

  // At UTC-3 the second run ended at 22:30 on the 28th, and "today" is still the 28th.
  const west = (await t.call(renter, "GET", "/api/v1/costs/daily?days=2&utcOffsetMinutes=-180")).body;
  assert.deepEqual(
    west.dayList.map((d: { day: string }) => d.day),
    ["2026-11-27", "2026-11-28"],
  );
  near(west.dayList[1].spent, 1.5, "both runs on the 28th at UTC-3");

  // The provider earned what the renter spent, on the same days.
  const earned = (await t.call(provider, "GET", "/api/v1/costs/daily?days=2")).body;
  near(earned.dayList[0].earned, 1, "earned on the 28th");
  near(earned.dayList[1].earned, 0.5, "earned on the 29th");
  assert.equal(earned.spent, 0);

  const earnings = (await t.call(provider, "GET", "/api/v1/earnings")).body;
  assert.equal(earnings.byDevice.length, 1);
  assert.equal(earnings.byDevice[0].deviceId, device.deviceId);
  assert.equal(earnings.byDevice[0].deviceName, "rented-a100");
  assert.equal(earnings.byDevice[0].runs, 2);
  near(earnings.total, 1.5, "total earnings");
  assert.deepEqual((await t.call(renter, "GET", "/api/v1/earnings")).body, { total: 0, byDevice: [] });

  // The device list counts the runs each device has had.
  const mine = (await t.call(provider, "GET", "/api/v1/devices")).body.deviceList;
  assert.equal(mine[0].runCount, 2);

  for (const bad of ["days=0", "days=367", "utcOffsetMinutes=900", "days=two"]) {
    const r = await t.call(renter, "GET", `/api/v1/costs/daily?${bad}`);
    assert.equal(r.status, 400, `${bad}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.resultCode, 3);
  }
  assert.equal((await t.call(null, "GET", "/api/v1/costs/daily")).status, 401);
  assert.equal((await t.call(null, "GET", "/api/v1/earnings")).status, 401);
});

test("offers filter by region as by provider, case aside", async () => {
  const other = await t.registerDevice(
    provider,
    deviceFacts("us-box", {
      gpus: [{ index: 0, name: "H100", memoryMiB: 81920 }],
      pricePerGpuHour: 2,
      shared: true,
      region: "us-east",
    }),
  );
  await heartbeat();
  const names = async (query: string) =>
    (await t.call(renter, "GET", `/api/v1/offers?${query}`)).body.offerList.map((d: { name: string }) => d.name);
  assert.deepEqual(await names(""), ["rented-a100", "us-box"]);
  assert.deepEqual(await names("region=EU-west"), ["rented-a100"]);
  assert.deepEqual(await names("region=us-east&provider=self"), ["us-box"]);
  assert.deepEqual(await names("region=mars"), []);
  await t.call(other.deviceToken, "POST", "/api/v1/agent/unregister");
});

test("a cluster lists the runs waiting for its devices apart from the running ones", async () => {
  const owner = await t.createUser("cluster-owner");
  await t.registerDevice(owner, deviceFacts("own-box", { gpus: [{ index: 0, name: "A100-80GB", memoryMiB: 81920 }] }));
  const launch = async () =>
    (await t.call(owner, "POST", "/api/v1/runs", { yamlText: gpuJob, workspaceSha256: null, cluster: "c1" })).body;
  const first = await launch();
  const second = await launch();
  assert.equal(first.resultCode, 0, first.resultMsg);
  const cluster = (await t.call(owner, "GET", "/api/v1/clusters")).body.clusterList[0];
  assert.deepEqual(cluster.liveRunIds, [first.runId, second.runId]);
  assert.deepEqual(cluster.queuedRunIds, [second.runId]);
  assert.equal((await t.call(owner, "POST", "/api/v1/clusters/kill", { names: ["c1"] })).body.done, true);
});

test("admins' user list carries each user's balance and live keys; others are refused", async () => {
  const listed = (await t.call(t.adminKey, "GET", "/api/v1/users")).body.userList;
  const renterRow = listed.find((u: { name: string }) => u.name === "renter");
  near(renterRow.balance, 98.5, "renter's balance");
  assert.equal(renterRow.activeKeys, 1);
  assert.equal((await t.call(t.adminKey, "POST", "/api/v1/users/renter/revoke")).body.revoked, 1);
  const after = (await t.call(t.adminKey, "GET", "/api/v1/users")).body.userList;
  assert.equal(after.find((u: { name: string }) => u.name === "renter").activeKeys, 0);
  const refused = await t.call(provider, "GET", "/api/v1/users");
  assert.equal(refused.status, 403);
  assert.match(refused.body.error, /not an admin/);
});
