import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

describe("API: an agent's batch of status reports", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.stop());

  // Each test its own users: a user's runs go to that user's own devices.
  const launch = async (key: string) => {
    const r = await t.call(key, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
    assert.equal(r.body.resultCode, 0, r.body.resultMsg);
    return r.body.runId as string;
  };
  const run = async (key: string, id: string) => (await t.call(key, "GET", `/api/v1/runs/${id}`)).body;

  test("one request ends many runs, each report conditional on its own; refusals are per report", async () => {
    const alice = await t.createUser("alice");
    const bob = await t.createUser("bob");
    const device = await t.registerDevice(alice, deviceFacts("batcher", { maxJobs: 4 }));
    await t.registerDevice(bob, deviceFacts("bobs", { maxJobs: 1 }));
    const [a, b, c] = [await launch(alice), await launch(alice), await launch(alice)];
    const theirs = await launch(bob);

    const reports = [
      { runId: a, status: "RUNNING" },
      { runId: b, status: "RUNNING" },
      { runId: a, status: "FINISHED", exitCode: 0, runtimeMs: 12 },
      { runId: b, status: "FAILED", exitCode: 3 },
      { runId: "no-such-run", status: "RUNNING" },
      { runId: c, status: "DANCING" },
      { runId: theirs, status: "FINISHED", exitCode: 0 },
    ];
    const answer = await t.call(device.deviceToken, "POST", "/api/v1/agent/reports", { reports });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const results = answer.body.results as { status: number; resultCode?: number; error?: string }[];
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 404, 400, 404],
    );
    assert.match(results[5].error ?? "", /DANCING/);
    assert.match(results[6].error ?? "", /not assigned to device/);

    const [runA, runB, runC] = [await run(alice, a), await run(alice, b), await run(alice, c)];
    assert.equal(runA.status, "FINISHED");
    assert.equal(runB.status, "FAILED");
    assert.equal(runC.status, "STARTING", "a refused report changes nothing");
    assert.equal((await run(bob, theirs)).status, "STARTING", "another device's run is not ours to end");

    // Sent again (the answer was lost): every report is taken, nothing changes.
    const again = await t.call(device.deviceToken, "POST", "/api/v1/agent/reports", { reports: reports.slice(0, 4) });
    assert.deepEqual(
      again.body.results.map((r: { status: number }) => r.status),
      [200, 200, 200, 200],
    );
    assert.equal((await run(alice, a)).status, "FINISHED");
    assert.equal((await run(alice, b)).status, "FAILED");
    assert.equal((await run(alice, b)).endedTime, runB.endedTime);
  });

  test("a run's reports apply in the order sent: RUNNING then FINISHED in one request", async () => {
    const carol = await t.createUser("carol");
    const device = await t.registerDevice(carol, deviceFacts("ordered", { maxJobs: 4 }));
    const id = await launch(carol);
    const reports = [
      { runId: id, status: "RUNNING" },
      { runId: id, status: "FINISHED", exitCode: 0, runtimeMs: 12 },
    ];
    const answer = await t.call(device.deviceToken, "POST", "/api/v1/agent/reports", { reports });
    assert.deepEqual(
      answer.body.results.map((r: { status: number }) => r.status),
      [200, 200],
    );
    const ended = await run(carol, id);
    assert.equal(ended.status, "FINISHED");
    assert.ok(ended.startedTime, "RUNNING was applied first: the run has a start time");
    // The job's own runtime counts back from its end (the two reports came at one instant).
    const span = ended.endedTime - ended.startedTime;
    assert.ok(span >= 0 && span <= 12, `started ${span} ms before its end`);
  });

  test("a malformed batch is refused whole, changing nothing; a user's key is not a device's", async () => {
    const dave = await t.createUser("dave");
    const device = await t.registerDevice(dave, deviceFacts("strict", { maxJobs: 1 }));
    const empty = await t.call(device.deviceToken, "POST", "/api/v1/agent/reports", { reports: [] });
    assert.equal(empty.status, 400);
    const noStatus = await t.call(device.deviceToken, "POST", "/api/v1/agent/reports", { reports: [{ runId: "1" }] });
    assert.equal(noStatus.status, 400);
    assert.match(noStatus.body.error, /status/);
    const asUser = await t.call(dave, "POST", "/api/v1/agent/reports", { reports: [{ runId: "1", status: "RUNNING" }] });
    assert.equal(asUser.status, 401);
  });
});
