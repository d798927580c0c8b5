// Liveness, leases, stop deadlines and billing through the real HTTP API on an injected clock:
// the test steps the server's wall and monotonic clocks as a stall or an NTP step would.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { waitFor } from "../../../test/support/wait.js";
import { shiftedClock } from "./support/clock.js";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

const shifted = shiftedClock();
const clock = shifted.clock;
/** The server process is paused for `ms` (both clocks move on; nothing ran meanwhile). */
const stall = shifted.stall;

let t: TestServer;
before(async () => {
  // Offline after 1 s, lease 3 s: parts are lost after 3 s + 200 ms kill grace (the stop
  // grace, under a quarter lease) + 750 ms margin (a quarter lease).
  t = await startTestServer({ offlineAfterMs: 1000, leaseMs: 3000, stopGraceMs: 200, stopAckDeadlineMs: 600, clock });
});
after(() => t.stop());

/** Heartbeats a device every 50 ms until stopped (what a healthy agent's polls do). */
function heartbeat(token: string): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    while (on) {
      await t.call(token, "GET", "/api/v1/agent/assignments?waitMs=0");
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

async function runningRun(key: string, token: string, yaml = simpleJob()): Promise<string> {
  await t.call(token, "GET", "/api/v1/agent/assignments?waitMs=0");
  const launched = await t.call(key, "POST", "/api/v1/runs", { yamlText: yaml, workspaceSha256: null });
  assert.equal(launched.body.resultCode, 0, launched.body.resultMsg);
  const runId = launched.body.runId as string;
  assert.equal((await t.call(token, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "RUNNING" })).status, 200);
  return runId;
}

const deviceStatus = async (key: string) => (await t.call(key, "GET", "/api/v1/devices")).body.deviceList[0].status as string;
const runOf = async (key: string, runId: string) => (await t.call(key, "GET", `/api/v1/runs/${runId}`)).body;

test("a server stall of 1 h, or a wall-clock step of +1 h, sweeps no device and fails no run", async () => {
  const key = await t.createUser("stall");
  const device = await t.registerDevice(key, deviceFacts("steady"));
  const runId = await runningRun(key, device.deviceToken);
  for (const [what, pause] of [
    ["a 1 h stall", () => stall(3_600_000)],
    ["a +1 h wall step", () => shifted.stepWall(3_600_000)],
  ] as const) {
    // The device was last heard just now; then the server stops (or its clock jumps).
    await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0");
    pause();
    // Several sweep ticks (100 ms) run inside the fresh grace period (1 s) without a heartbeat.
    const start = Date.now();
    while (Date.now() - start < 250) {
      assert.notEqual(await deviceStatus(key), "OFFLINE", `device swept after ${what}`);
      assert.equal((await runOf(key, runId)).status, "RUNNING", `run ended after ${what}`);
    }
  }
  // A healthy agent is heard within its grace, and everything carries on.
  const stop = heartbeat(device.deviceToken);
  // Past the grace period (1 s), checked all along rather than once at the end.
  const heardFrom = Date.now();
  while (Date.now() - heardFrom < 1500) {
    assert.notEqual(await deviceStatus(key), "OFFLINE", "a heartbeating device was swept");
  }
  await stop();
  assert.notEqual(await deviceStatus(key), "OFFLINE");
  assert.equal((await runOf(key, runId)).status, "RUNNING");
});

test("a silent device goes OFFLINE first; its run fails only once the lease and margin are over", async () => {
  const key = await t.createUser("lease");
  const device = await t.registerDevice(key, deviceFacts("silent"));
  const runId = await runningRun(key, device.deviceToken);
  const silentFrom = Date.now();
  await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0");
  await waitFor("OFFLINE", async () => (await deviceStatus(key)) === "OFFLINE");
  const offlineAt = Date.now() - silentFrom;
  assert.equal((await runOf(key, runId)).status, "RUNNING", "the lease still holds: the agent may be running it");
  const failed = await waitFor("FAILED", async () => {
    const run = await runOf(key, runId);
    return run.status === "FAILED" ? run : undefined;
  });
  const failedAt = Date.now() - silentFrom;
  assert.equal(failed.reason, "device silent went offline");
  assert.ok(offlineAt >= 1000, `OFFLINE after ${offlineAt} ms`);
  assert.ok(failedAt >= 3950, `FAILED after ${failedAt} ms: before lease + kill grace + margin (3950 ms)`);
});

test("a stop the agent never confirms stops billing at the request and ends after the deadline", async () => {
  const provider = await t.createUser("provider");
  const renter = await t.createUser("renter");
  assert.equal((await t.call(t.adminKey, "POST", "/api/v1/users/renter/credit", { amount: 10 })).status, 200);
  const gpus = [{ index: 0, name: "A100-80GB", memoryMiB: 81920 }];
  const device = await t.registerDevice(provider, deviceFacts("paid", { gpus, pricePerGpuHour: 2, shared: true }));
  const stop = heartbeat(device.deviceToken);
  try {
    const yaml = "job: sleep 1000\ncomputing:\n  minimum_num_gpus: 1\n  maximum_cost_per_hour: $5\n";
    const runId = await runningRun(renter, device.deviceToken, yaml);
    stall(30 * 60_000); // 30 minutes of running (the server sleeping through them changes nothing)
    assert.equal((await t.call(renter, "POST", `/api/v1/runs/${runId}/stop`)).body.status, "STOPPING");
    stall(2 * 3_600_000); // the agent never confirms; two more hours go by
    const ended = await waitFor("the server to end the part", async () => {
      const run = await runOf(renter, runId);
      return run.status === "KILLED" ? run : undefined;
    });
    assert.match(ended.reason, /did not confirm the stop/);
    const credit = (await t.call(renter, "GET", "/api/v1/me/credit")).body;
    const charge = credit.ledger.find((e: { kind: string }) => e.kind === "charge");
    // Half an hour at $2/h (plus the few real ms the test took): billing stopped at the request.
    assert.ok(Math.abs(charge.amount + 1) < 0.001, `charged ${charge.amount}`);
    assert.ok(Math.abs(credit.balance - 9) < 0.001, `balance ${credit.balance}`);
    // A late KILLED from the agent changes nothing.
    await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "KILLED", runtimeMs: 1e9 });
    assert.equal((await t.call(renter, "GET", "/api/v1/me/credit")).body.balance, credit.balance);
  } finally {
    await stop();
    // Shared: later tests' runs must not land on it.
    await t.call(device.deviceToken, "POST", "/api/v1/agent/unregister");
  }
});

test("values a provider reports are bounded and checked", async () => {
  const key = await t.createUser("bounds");
  const bad: [string, Parameters<typeof deviceFacts>[1]][] = [
    ["pricePerGpuHour", { pricePerGpuHour: 1e12 }],
    ["GPU index", { gpus: [{ index: 1e9, name: "x", memoryMiB: 1 }] }],
    ["reported twice", { gpus: [0, 0].map((index) => ({ index, name: "x", memoryMiB: 1 })) }],
    [
      "gpus must NOT have more than 1024 items",
      { gpus: Array.from({ length: 1025 }, (_, index) => ({ index, name: "x", memoryMiB: 1 })) },
    ],
    ["maxJobs", { maxJobs: 1e9 }],
    ["cpuCount", { cpuCount: 1e12 }],
    ["region is longer", { region: "r".repeat(5000) }],
  ];
  for (const [what, facts] of bad) {
    const r = await t.call(key, "POST", "/api/v1/agent/register", { facts: deviceFacts("bad", facts) });
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, new RegExp(what));
  }
  assert.equal((await t.call(key, "GET", "/api/v1/devices")).body.deviceList.length, 0, "nothing stored");

  const device = await t.registerDevice(key, deviceFacts("ok"));
  const runId = await runningRun(key, device.deviceToken);
  const huge = await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, {
    status: "FAILED",
    exitCode: 2 ** 40,
  });
  assert.equal(huge.status, 400);
  const negative = await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, {
    status: "FAILED",
    runtimeMs: -5,
  });
  assert.equal(negative.status, 400);
  assert.equal((await runOf(key, runId)).status, "RUNNING", "a refused report changes nothing");
  const long = await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, {
    status: "FAILED",
    exitCode: 3,
    reason: "x".repeat(100_000),
  });
  assert.equal(long.status, 200, JSON.stringify(long.body));
  const run = await runOf(key, runId);
  assert.equal(run.status, "FAILED");
  assert.ok(run.reason.length <= 1000, `reason of ${run.reason.length} characters`);
});
