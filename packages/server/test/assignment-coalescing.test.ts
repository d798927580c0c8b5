import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AssignmentCoalescer } from "../src/devices/assignment-coalescing.js";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

test("a device woken again within a second waits the window; a quiet one answers at once", () => {
  let now = 10_000;
  const coalescer = new AssignmentCoalescer(7, () => now);
  assert.equal(coalescer.delayFor(1), 0, "first wake of a device");
  now += 40;
  assert.equal(coalescer.delayFor(1), 7, "woken again 40 ms later: busy");
  assert.equal(coalescer.delayFor(2), 0, "another device is not busy because of the first");
  now += 1_500;
  assert.equal(coalescer.delayFor(1), 0, "quiet for 1.5 s: at once again");
  assert.equal(new AssignmentCoalescer(0, () => now).delayFor(1), 0);
});

describe("API: a busy device's held assignments poll gathers a burst of placements", () => {
  // Long enough that the second launch lands inside it even on a loaded machine.
  const WINDOW_MS = 6_000;
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ assignmentCoalesceMs: WINDOW_MS });
  });
  after(() => t.stop());

  test("first placement answered at once, the next two in one answer", async () => {
    const alice = await t.createUser("alice");
    const device = await t.registerDevice(alice, deviceFacts("burst", { maxJobs: 8 }));
    const poll = async (since: number) => {
      const r = await t.call(device.deviceToken, "GET", `/api/v1/agent/assignments?since=${since}&waitMs=15000`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return {
        at: Date.now(),
        version: r.body.version as number,
        runIds: (r.body.assignments as { runId: string }[]).map((a) => a.runId),
      };
    };
    const launch = async () => {
      const r = await t.call(alice, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
      assert.equal(r.body.resultCode, 0, r.body.resultMsg);
      return { at: Date.now(), runId: r.body.runId as string };
    };
    // A version ahead of the device's finds no change: the device stays quiet.
    const start = (await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?since=1000000&waitMs=0")).body
      .version as number;

    // Held or not when the placement lands, a poll of a quiet device answers at once.
    const first = poll(start);
    const a = await launch();
    const answerA = await first;
    assert.deepEqual(answerA.runIds, [a.runId]);
    assert.ok(answerA.at - a.at < WINDOW_MS, `a quiet device's poll answered ${answerA.at - a.at} ms after the launch`);

    const second = poll(answerA.version);
    const b = await launch();
    const c = await launch();
    const answer = await second;
    assert.deepEqual(answer.runIds.sort(), [a.runId, b.runId, c.runId].sort(), "B and C come in one answer");
  });
});
