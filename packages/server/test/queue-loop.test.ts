// The queue pass runs in its own loop: when it throws or hangs, requests that have nothing to
// do with it (a device registering, run listing, logs, a launch that fits now) still work,
// and once it works again the waiting runs are placed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyBaseLogger } from "fastify";
import { QueueLoop } from "../src/scheduler/queue-loop.js";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

/** Polls `check` until it answers true or `ms` pass. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const breakage of ["throwing", "wedged"] as const) {
  describe(`a ${breakage} queue pass`, () => {
    let t: TestServer;
    let broken = true;
    let passes = 0;
    let release: () => void = () => {};
    before(async () => {
      t = await startTestServer({
        testHooks: {
          beforeQueuePass: async () => {
            passes++;
            if (!broken) return;
            if (breakage === "throwing") throw new Error("the queue pass broke");
            await new Promise<void>((resolve) => {
              release = resolve;
            });
          },
        },
      });
    });
    after(async () => {
      release();
      await t.stop();
    });

    test("fails no device registration, run listing, logs or launch; placement resumes once it works", async () => {
      const alice = await t.createUser("alice");
      await eventually("a first queue pass", async () => passes > 0);
      const device = await t.registerDevice(alice, deviceFacts("d1"));

      // A launch that fits now is placed by the request itself.
      const first = await t.call(alice, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.resultCode, 0, first.body.resultMsg);
      const second = await t.call(alice, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
      assert.equal(second.body.resultCode, 5, second.body.resultMsg);

      const id = first.body.runId as string;
      const token = device.deviceToken;
      assert.equal((await t.call(token, "POST", `/api/v1/agent/runs/${id}/status`, { status: "RUNNING" })).status, 200);
      const lines = [{ seq: 1, text: "hello", stream: "stdout", time: 1 }];
      assert.equal((await t.call(token, "POST", `/api/v1/agent/runs/${id}/logs`, { lines })).status, 200);
      const logs = await t.call(alice, "GET", `/api/v1/runs/${id}/logs`);
      assert.equal(logs.status, 200, JSON.stringify(logs.body));
      const listed = await t.call(alice, "GET", "/api/v1/runs");
      assert.equal(listed.status, 200);
      assert.equal(listed.body.runList.length, 2);
      // Its final report frees the device; only a queue pass could place the second run.
      assert.equal(
        (await t.call(token, "POST", `/api/v1/agent/runs/${id}/status`, { status: "FINISHED", exitCode: 0 })).status,
        200,
      );
      const another = await t.registerDevice(alice, deviceFacts("d2"));
      assert.ok(another.deviceId);

      const statusOf = async () => (await t.call(alice, "GET", `/api/v1/runs/${second.body.runId}`)).body.status;
      assert.equal(await statusOf(), "QUEUED");
      broken = false;
      release();
      await eventually("the waiting run to be placed", async () => (await statusOf()) === "STARTING");

      if (breakage === "wedged") {
        // Wedged again: the server still shuts down, without waiting on the pass for ever.
        broken = true;
        const seen = passes;
        await t.registerDevice(alice, deviceFacts("d3"));
        await eventually("a pass to wedge", async () => passes > seen);
        const started = Date.now();
        await t.server.close();
        assert.ok(Date.now() - started < 15_000, `closing took ${Date.now() - started} ms`);
      }
    });
  });
}

describe("a queue pass that finds the placement lock held (another replica's pass)", () => {
  const silent = { info: () => {}, error: () => {} } as unknown as FastifyBaseLogger;

  test("is tried again shortly when woken", async () => {
    let busy = 3;
    let tries = 0;
    // A period far beyond the test: every pass here is the start's or a busy retry.
    const loop = new QueueLoop({
      pass: async () => {
        tries++;
        return busy-- > 0 ? null : 0;
      },
      log: silent,
      periodMs: 60_000,
      busyRetryMs: 5,
    });
    loop.start();
    try {
      await eventually("the pass to get the lock", async () => tries === 4, 5_000);
    } finally {
      await loop.stop();
    }
  });

  test("is left to the other pass when periodic: the next try comes a period later", async () => {
    let tries = 0;
    const periodMs = 50;
    const loop = new QueueLoop({
      // The start's pass runs; every periodic one after it finds the lock held.
      pass: async () => (tries++ === 0 ? 0 : null),
      log: silent,
      periodMs,
      busyRetryMs: 1,
    });
    const started = Date.now();
    loop.start();
    try {
      await eventually("four periodic passes", async () => tries >= 5, 5_000);
      // Retried at busyRetryMs, four tries would take ~4 ms; periodic ones take 4 periods.
      assert.ok(Date.now() - started >= 3 * periodMs, `${tries} tries in ${Date.now() - started} ms`);
    } finally {
      await loop.stop();
    }
  });
});

describe("passes back to back (a deep queue being placed)", () => {
  const silent = { info: () => {}, error: () => {} } as unknown as FastifyBaseLogger;

  test("leave requests their share: the next pass waits as long as the last one took", async () => {
    const passMs = 40;
    const starts: number[] = [];
    const ends: number[] = [];
    let clock = 0;
    const loop = new QueueLoop({
      // Every pass places runs (so the next is asked for at once) and, on the loop's clock, takes passMs.
      pass: async () => {
        starts.push(performance.now());
        clock += passMs;
        ends.push(performance.now());
        return 1;
      },
      log: silent,
      periodMs: 60_000,
      now: () => clock,
    });
    loop.start();
    try {
      await eventually("four passes", async () => ends.length >= 4, 10_000);
    } finally {
      await loop.stop();
    }
    for (let i = 1; i < 4; i++) {
      const gap = starts[i] - ends[i - 1];
      // Timers may fire a millisecond early; without the rest the gap is one turn of the loop.
      assert.ok(gap >= passMs - 2, `pass ${i} began ${gap.toFixed(1)} ms after the last ended`);
    }
  });

  test("a wake-up long after the last pass is served at once", async () => {
    let passes = 0;
    let wokenAt = 0;
    let ranAt = 0;
    let clock = 0;
    const loop = new QueueLoop({
      pass: async () => {
        passes++;
        ranAt = performance.now();
        if (passes === 1) clock += 30; // the first pass took 30 ms
        return 0;
      },
      log: silent,
      periodMs: 60_000,
      now: () => clock,
    });
    loop.start();
    try {
      await eventually("the first pass", async () => passes === 1 && ranAt > 0, 5_000);
      clock += 100; // the wake-up comes long after that pass ended
      wokenAt = performance.now();
      loop.wake();
      await eventually("the woken pass", async () => passes === 2, 5_000);
      assert.ok(ranAt - wokenAt < 25, `ran ${(ranAt - wokenAt).toFixed(1)} ms after the wake-up`);
    } finally {
      await loop.stop();
    }
  });
});
