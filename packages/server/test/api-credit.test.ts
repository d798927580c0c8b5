// Credit through the real HTTP API on an injected clock: every running and held commitment
// counts against the balance, a user whose balance runs out is stopped, and a cluster holding
// another owner's paid device pays for the whole device while it holds it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { waitFor } from "../../../test/support/wait.js";
import { shiftedClock } from "./support/clock.js";
import { openTestStore } from "./support/database.js";
import { type TestServer, deviceFacts, startTestServer } from "./support/server.js";

const shifted = shiftedClock();
const clock = shifted.clock;
/** Time the server sleeps through (jobs and holds keep billing meanwhile). */
const pass = shifted.stall;

let t: TestServer;
before(async () => {
  t = await startTestServer({ clock });
});
after(() => t.stop());

const gpus = (n: number) => Array.from({ length: n }, (_, index) => ({ index, name: "A100-80GB", memoryMiB: 81920 }));
const gpuJob = (n: number, extra = "") =>
  `job: sleep 1000\ncomputing:\n  minimum_num_gpus: ${n}\n  maximum_cost_per_hour: $100\n${extra}`;
const balanceOf = async (key: string) => (await t.call(key, "GET", "/api/v1/me/credit")).body;
const runOf = async (key: string, runId: string) => (await t.call(key, "GET", `/api/v1/runs/${runId}`)).body;

async function launch(key: string, yaml: string, cluster?: string) {
  return (await t.call(key, "POST", "/api/v1/runs", { yamlText: yaml, workspaceSha256: null, ...(cluster ? { cluster } : {}) }))
    .body;
}

async function providerDevice(name: string, gpuCount: number, price: number) {
  const provider = await t.createUser(`${name}-owner`);
  return t.registerDevice(
    provider,
    deviceFacts(name, { gpus: gpus(gpuCount), pricePerGpuHour: price, shared: true, maxJobs: 16 }),
  );
}

const grant = (user: string, amount: number) => t.call(t.adminKey, "POST", `/api/v1/users/${user}/credit`, { amount });
const unbind = (token: string) => t.call(token, "POST", "/api/v1/agent/unregister");

test("the credit check counts every running commitment: $2.50 runs two $1/h jobs, not three", async () => {
  const device = await providerDevice("sixteen", 16, 1);
  const key = await t.createUser("thrifty");
  await grant("thrifty", 2.5);
  const first = await launch(key, gpuJob(1));
  const second = await launch(key, gpuJob(1));
  assert.equal(first.resultCode, 0, first.resultMsg);
  assert.equal(second.resultCode, 0, second.resultMsg);
  const third = await launch(key, gpuJob(1));
  assert.equal(third.resultCode, 24, JSON.stringify(third));
  assert.match(third.resultMsg ?? third.error ?? "", /on top of the \$2\.00\/hour you already pay/);
  // A stop ends the commitment at once (billing stops at the request).
  assert.equal((await t.call(key, "POST", `/api/v1/runs/${first.runId}/stop`)).body.status, "STOPPING");
  const fourth = await launch(key, gpuJob(1));
  assert.equal(fourth.resultCode, 0, fourth.resultMsg);
  await unbind(device.deviceToken);
});

test("a run whose owner's balance runs out is stopped with that reason", async () => {
  const device = await providerDevice("pricey", 1, 2);
  const key = await t.createUser("spender");
  await grant("spender", 3);
  const launched = await launch(key, gpuJob(1));
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  const runId = launched.runId as string;
  await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "RUNNING" });
  pass(60 * 60_000); // an hour at $2/h: $1 left, still running
  await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0");
  assert.equal((await runOf(key, runId)).status, "RUNNING");
  pass(31 * 60_000); // past $3
  await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0");
  await waitFor("the stop", async () => (await runOf(key, runId)).status === "STOPPING");
  const assignments = (await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0")).body.assignments;
  assert.equal(assignments[0].stopRequested, true, "the agent is told to stop it");
  await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, {
    status: "KILLED",
    reason: "stopped by the user",
  });
  const run = await runOf(key, runId);
  assert.equal(run.status, "KILLED");
  assert.match(run.reason, /^OUT_OF_BALANCE/);
  const credit = await balanceOf(key);
  assert.ok(credit.balance <= 0.01 && credit.balance > -0.1, `balance ${credit.balance}`);
  await unbind(device.deviceToken);
});

test("spend is measured on the monotonic clock: a wall-clock step of +3 h stops nobody, time that passes does", async () => {
  const cheap = await providerDevice("steady-1", 1, 1);
  const dear = await providerDevice("steady-2", 1, 2);
  /** A user with $2.10 on the $2/h device: stopped once 64 minutes pass, which shows a balance check ran. */
  const canary = async (name: string) => {
    const key = await t.createUser(name);
    await grant(name, 2.1);
    const launched = await launch(key, gpuJob(1));
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    await t.call(dear.deviceToken, "POST", `/api/v1/agent/runs/${launched.runId}/status`, { status: "RUNNING" });
    return { key, runId: launched.runId as string };
  };
  const stopped = async (c: { key: string; runId: string }) => {
    await waitFor(`${c.runId} stopped`, async () => (await runOf(c.key, c.runId)).status === "STOPPING");
    await t.call(dear.deviceToken, "POST", `/api/v1/agent/runs/${c.runId}/status`, { status: "KILLED" });
  };
  const key = await t.createUser("stepper");
  await grant("stepper", 3);
  const launched = await launch(key, gpuJob(1));
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  const runId = launched.runId as string;
  await t.call(cheap.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "RUNNING" });
  const first = await canary("canary-1");
  pass(64 * 60_000); // $1.07 of the stepper's $3 spent
  await stopped(first);
  shifted.stepWall(3 * 60 * 60_000); // measured on the wall clock: 4 h at $1/h, over $3
  const second = await canary("canary-2");
  pass(64 * 60_000); // $2.13 spent
  await stopped(second);
  assert.equal((await runOf(key, runId)).status, "RUNNING", "a wall-clock step stopped the run");
  pass(60 * 60_000); // $3.13: over
  await waitFor("the stop", async () => (await runOf(key, runId)).status === "STOPPING");
  await t.call(cheap.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "KILLED" });
  assert.match((await runOf(key, runId)).reason, /^OUT_OF_BALANCE/);
  await unbind(cheap.deviceToken);
  await unbind(dear.deviceToken);
});

test("a user found comfortably in credit is stopped promptly once a new run of theirs or a debit eats their slack", async () => {
  const cheap = await providerDevice("runway-1", 1, 1);
  const dear = await providerDevice("runway-2", 1, 2);
  const started = async (key: string, token: string) => {
    const launched = await launch(key, gpuJob(1));
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    await t.call(token, "POST", `/api/v1/agent/runs/${launched.runId}/status`, { status: "RUNNING" });
    return launched.runId as string;
  };
  const killed = async (key: string, token: string, runId: string) => {
    await waitFor(`${runId} stopped`, async () => (await runOf(key, runId)).status === "STOPPING");
    await t.call(token, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "KILLED" });
    assert.match((await runOf(key, runId)).reason, /^OUT_OF_BALANCE/);
  };
  /** A user stopped once 64 minutes pass on the $2/h device: a guard tick saw everyone after that pass. */
  const canary = async (name: string) => {
    const key = await t.createUser(name);
    await grant(name, 2.1);
    return { key, runId: await started(key, dear.deviceToken) };
  };

  // A new run: $3.50 at $1/h, $1.07 spent, is a 2.4 h runway, until a $2/h run of theirs starts.
  const grower = await t.createUser("grower");
  await grant("grower", 3.5);
  const first = await started(grower, cheap.deviceToken);
  const c1 = await canary("runway-canary-1");
  pass(64 * 60_000);
  await killed(c1.key, dear.deviceToken, c1.runId);
  const second = await started(grower, dear.deviceToken);
  pass(50 * 60_000); // $1.07 + $0.83 + $1.67 = $3.57: over
  await killed(grower, cheap.deviceToken, first);
  await killed(grower, dear.deviceToken, second);

  // A debit (a balance lowered other than by a part's charge): $10 at $1/h is a 10 h runway, until it is $1.
  const debtor = await t.createUser("debtor");
  await grant("debtor", 10);
  const run = await started(debtor, cheap.deviceToken);
  const c2 = await canary("runway-canary-2");
  pass(64 * 60_000);
  await killed(c2.key, dear.deviceToken, c2.runId);
  const store = await openTestStore(t.home);
  try {
    await store.db.updateTable("users").set({ credit_balance_micros: 1_000_000 }).where("name", "=", "debtor").execute();
  } finally {
    await store.close();
  }
  await killed(debtor, cheap.deviceToken, run); // $1.07 spent of $1
  await unbind(cheap.deviceToken);
  await unbind(dear.deviceToken);
});

test("a cluster holding another owner's paid device pays for the whole device, idle or not", async () => {
  const device = await providerDevice("rented", 4, 1);
  const key = await t.createUser("hoarder");
  await grant("hoarder", 100);
  const launched = await launch(key, gpuJob(1), "c1");
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  const runId = launched.runId as string;
  // Idle auto-stop off: before, such a cluster held the device for free forever.
  assert.equal((await t.call(key, "PUT", "/api/v1/clusters/c1/autostop", { idleMinutes: 0 })).status, 200);
  // The hold bills the device's 4 GPUs at $1/h, whatever runs on it.
  const store = await openTestStore(t.home);
  try {
    const held = await waitFor("the hold to open", async () => {
      const rows = await store.db.selectFrom("reservations").selectAll().where("ended_at", "is", null).execute();
      return rows.length === 1 ? rows[0] : undefined;
    });
    assert.equal(held.gpu_count, 4);
  } finally {
    await store.close();
  }
  await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "RUNNING" });
  pass(30 * 60_000); // the job runs half an hour on 1 GPU ($0.50)...
  await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "FINISHED", exitCode: 0 });
  pass(90 * 60_000); // ...then the cluster sits idle 1.5 hours
  await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0");
  assert.equal((await t.call(key, "POST", "/api/v1/clusters/stop", { names: ["c1"] })).body.done, true);
  const credit = await waitFor("the hold's charge", async () => {
    const c = await balanceOf(key);
    return c.ledger.some((e: { kind: string }) => e.kind === "reservation") ? c : undefined;
  });
  const charge = credit.ledger.find((e: { kind: string }) => e.kind === "charge");
  const hold = credit.ledger.find((e: { kind: string }) => e.kind === "reservation");
  // Two hours of 4 GPUs at $1 = $8 in all: $0.50 for the run, $7.50 for the rest of the hold.
  assert.ok(Math.abs(charge.amount + 0.5) < 0.01, `run charged ${charge.amount}`);
  assert.ok(Math.abs(hold.amount + 7.5) < 0.01, `hold charged ${hold.amount}`);
  assert.ok(Math.abs(credit.balance - 92) < 0.02, `balance ${credit.balance}`);
  await unbind(device.deviceToken);
});
