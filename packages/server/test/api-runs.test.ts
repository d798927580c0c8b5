import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

const line = (seq: number) => ({ seq, text: `line ${seq}`, stream: "stdout" as const, time: 1000 + seq });

describe("API: a run's life", () => {
  let t: TestServer;
  let alice: string;
  let bob: string;
  before(async () => {
    t = await startTestServer();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
  });
  after(() => t.stop());

  const launch = async (key: string, yamlText = simpleJob()) => {
    const r = await t.call(key, "POST", "/api/v1/runs", { yamlText, workspaceSha256: null });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { resultCode: number; resultMsg: string; runId: string | null };
  };
  const run = async (key: string, id: string) => (await t.call(key, "GET", `/api/v1/runs/${id}`)).body;
  /** The queue pass runs in its own loop, woken by the report that freed capacity: wait for it. */
  const placedSoon = async (key: string, id: string) => {
    const deadline = Date.now() + 10_000;
    while ((await run(key, id)).status === "QUEUED" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await run(key, id)).status, "STARTING");
  };
  const report = (token: string, id: string, status: string, extra: object = {}) =>
    t.call(token, "POST", `/api/v1/agent/runs/${id}/status`, { status, ...extra });

  test("launch -> assignment in the long-poll -> statuses -> FINISHED; others see 404", async () => {
    const device = await t.registerDevice(alice, deviceFacts("a1", { address: "10.1.2.3", gpuError: "nvidia-smi not found" }));
    const first = await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?since=0&waitMs=0");
    const version = first.body.version as number;
    assert.deepEqual(first.body.assignments, []);

    const pending = t.call(device.deviceToken, "GET", `/api/v1/agent/assignments?since=${version}&waitMs=5000`);
    await new Promise((r) => setTimeout(r, 100));
    const launched = await launch(alice, simpleJob("job_name: hello-run\nmy_params:\n  lr: 0.1\n"));
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const polled = await pending;
    assert.ok(polled.body.version > version);
    const [a] = polled.body.assignments;
    assert.equal(a.runId, launched.runId);
    assert.equal(a.stopRequested, false);
    assert.equal(a.env.FEDML_CURRENT_RUN_ID, launched.runId);
    assert.equal(a.env.FEDML_CURRENT_EDGE_ID, device.deviceId);
    assert.equal(a.env.FEDML_NODE_0_ADDR, "10.1.2.3");
    assert.equal(a.env.CUDA_VISIBLE_DEVICES, "");
    assert.equal(a.env.FEDML_RUN_NAME, "hello-run");
    assert.equal(a.job.posix, "echo hello");

    const id = launched.runId!;
    assert.equal((await run(alice, id)).status, "STARTING");
    const foreign = await t.call(bob, "GET", `/api/v1/runs/${id}`);
    const unknown = await t.call(bob, "GET", "/api/v1/runs/987654");
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.body, { ...unknown.body, error: `run ${id} not found` });
    assert.equal(unknown.body.resultCode, 25);
    assert.equal((await t.call(bob, "POST", `/api/v1/runs/${id}/stop`)).status, 404);
    assert.deepEqual((await t.call(bob, "GET", "/api/v1/runs")).body, { runList: [] });

    assert.equal((await report(device.deviceToken, id, "INITIALIZING")).status, 200);
    assert.equal((await run(alice, id)).status, "STARTING");
    await report(device.deviceToken, id, "RUNNING");
    const running = await run(alice, id);
    assert.equal(running.status, "RUNNING");
    assert.ok(running.startedTime > 0);
    await report(device.deviceToken, id, "FINISHED", { exitCode: 0 });
    await report(device.deviceToken, id, "FAILED", { exitCode: 3 }); // late and contradictory: ignored
    const done = await run(alice, id);
    assert.equal(done.status, "FINISHED");
    assert.equal(done.exitCode, 0);
    assert.ok(done.endedTime >= done.startedTime);
    assert.equal(done.deviceInfos[0].deviceId, device.deviceId);
    assert.equal(done.deviceInfos[0].status, "FINISHED");
    assert.equal(done.runUrl, `${t.url}/runs/${id}`);
    const page = await fetch(done.runUrl);
    assert.match(await page.text(), /fedml run status/);

    const byName = await t.call(alice, "GET", "/api/v1/runs?runName=hello-run");
    assert.deepEqual(
      byName.body.runList.map((r: { runId: string }) => r.runId),
      [id],
    );
    const stop = await t.call(alice, "POST", `/api/v1/runs/${id}/stop`);
    assert.deepEqual(stop.body, { stopped: false, status: "FINISHED" });
    const other = await t.registerDevice(bob, deviceFacts("b1"));
    assert.equal((await report(other.deviceToken, id, "RUNNING")).status, 404);
    const devices = await t.call(alice, "GET", "/api/v1/devices");
    assert.deepEqual(
      devices.body.deviceList.map((d: { name: string }) => d.name),
      ["a1"],
    );
    assert.equal(devices.body.deviceList[0].status, "IDLE");
    assert.equal(devices.body.deviceList[0].gpuError, "nvidia-smi not found");
    assert.equal((await t.call(alice, "DELETE", `/api/v1/devices/${device.deviceId}`)).status, 200);
    assert.equal((await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments")).status, 401);
  });

  test("log batches: idempotent, gaps refused with 409, paging by ranges over 2,500 lines", async () => {
    const key = await t.createUser("logger");
    const device = await t.registerDevice(key, deviceFacts("l1"));
    const { runId } = await launch(key);
    const id = runId!;
    const post = (lines: ReturnType<typeof line>[]) =>
      t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${id}/logs`, { lines });

    const follow = t.call(key, "GET", `/api/v1/runs/${id}/log-lines?afterSeq=0&waitMs=5000`);
    await new Promise((r) => setTimeout(r, 100));
    const batch1 = Array.from({ length: 1000 }, (_, i) => line(i + 1));
    assert.deepEqual((await post(batch1)).body, { ackedSeq: 1000 });
    const followed = await follow;
    assert.equal(followed.body.deviceId, device.deviceId);
    assert.equal(followed.body.lines[0].text, "line 1");
    assert.equal(followed.body.done, false);

    assert.deepEqual((await post(batch1)).body, { ackedSeq: 1000 });
    const gap = await post([line(1500)]);
    assert.equal(gap.status, 409);
    assert.equal(gap.body.ackedSeq, 1000);
    const rest = Array.from({ length: 1500 }, (_, i) => line(i + 1001));
    assert.deepEqual((await post(rest.slice(0, 700))).body, { ackedSeq: 1700 });
    assert.deepEqual((await post(rest.slice(600))).body, { ackedSeq: 2500 });

    for (const [pageNum, pageSize] of [
      [1, 10],
      [3, 100],
      [250, 10],
      [2, 1000],
      [3, 1000],
      [358, 7],
    ]) {
      const r = await t.call(key, "GET", `/api/v1/runs/${id}/logs?pageNum=${pageNum}&pageSize=${pageSize}`);
      assert.equal(r.status, 200);
      const from = (pageNum - 1) * pageSize + 1;
      const to = Math.min(2500, pageNum * pageSize);
      const expected = Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);
      assert.equal(r.body.totalLogLines, 2500);
      assert.equal(r.body.totalLogPages, Math.ceil(2500 / pageSize));
      assert.deepEqual(r.body.logLineList, expected, `page ${pageNum} of size ${pageSize}`);
      assert.deepEqual(r.body.runLogs.logLines, expected);
      assert.equal(r.body.runLogs.currentPage, pageNum);
    }
    const defaults = await t.call(key, "GET", `/api/v1/runs/${id}/logs`);
    assert.equal(defaults.body.logLineList.length, 10);
    assert.equal(defaults.body.runLogs.logFullUrl, `${t.url}/api/v1/runs/${id}/logs/full`);
    assert.equal(defaults.body.runLogs.logDevices[0].logUrl, `${t.url}/api/v1/runs/${id}/logs/full?deviceId=${device.deviceId}`);
    const all = await t.call(key, "GET", `/api/v1/runs/${id}/logs?needAllLogs=true`);
    assert.equal(all.body.logLineList.length, 2500);
    assert.equal(all.body.runLogs.logLines.length, 10);
    const full = await fetch(`${t.url}/api/v1/runs/${id}/logs/full`, { headers: { authorization: `Bearer ${key}` } });
    assert.match(full.headers.get("content-type") ?? "", /text\/plain/);
    const text = await full.text();
    assert.equal(text.split("\n").length, 2501);
    assert.ok(text.startsWith("line 1\nline 2\n"));

    await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${id}/status`, { status: "FINISHED", exitCode: 0 });
    const tail = await t.call(key, "GET", `/api/v1/runs/${id}/log-lines?afterSeq=2500&waitMs=3000`);
    assert.equal(tail.body.done, true);
    assert.equal(tail.body.runStatus, "FINISHED");
  });

  test("stop: STOPPING, the agent is told, reports KILLED; a queued run is canceled at once", async () => {
    const key = await t.createUser("stopper");
    const device = await t.registerDevice(key, deviceFacts("s1", { maxJobs: 1 }));
    const first = await launch(key);
    assert.equal(first.resultCode, 0);
    const second = await launch(key);
    assert.equal(second.resultCode, 5, second.resultMsg);
    assert.ok(second.runId);
    const queued = await run(key, second.runId!);
    assert.equal(queued.status, "QUEUED");
    assert.match(queued.reason, /needs a job slot; every job slot is taken \(s1\)/);

    await report(device.deviceToken, first.runId!, "RUNNING");
    const stop = await t.call(key, "POST", `/api/v1/runs/${first.runId}/stop`);
    assert.deepEqual(stop.body, { stopped: true, status: "STOPPING" });
    const state = await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?since=0");
    const mine = state.body.assignments.find((x: { runId: string }) => x.runId === first.runId);
    assert.equal(mine.stopRequested, true);
    await report(device.deviceToken, first.runId!, "RUNNING"); // a late progress report does not undo the stop
    assert.equal((await run(key, first.runId!)).status, "STOPPING");
    await report(device.deviceToken, first.runId!, "KILLED", { exitCode: 143 });
    assert.equal((await run(key, first.runId!)).status, "KILLED");
    assert.deepEqual((await t.call(key, "POST", `/api/v1/runs/${first.runId}/stop`)).body, { stopped: true, status: "KILLED" });

    // The slot freed: the queued run is placed.
    await placedSoon(key, second.runId!);
    const third = await launch(key);
    assert.equal(third.resultCode, 5);
    const canceled = await t.call(key, "POST", `/api/v1/runs/${third.runId}/stop`);
    assert.deepEqual(canceled.body, { stopped: true, status: "KILLED" });
    assert.equal((await run(key, third.runId!)).reason, "QUEUE_CANCELED: canceled while queued");
  });

  test("queue: FIFO placement when the running job ends", async () => {
    const key = await t.createUser("queuer");
    const device = await t.registerDevice(
      key,
      deviceFacts("q1", { gpus: [{ index: 0, name: "NVIDIA T4", memoryMiB: 16000 }], maxJobs: 4 }),
    );
    const gpuJob = simpleJob("computing:\n  minimum_num_gpus: 1\n  resource_type: T4\n");
    const a = await launch(key, gpuJob);
    const b = await launch(key, gpuJob);
    const c = await launch(key, gpuJob);
    assert.deepEqual([a.resultCode, b.resultCode, c.resultCode], [0, 5, 5]);
    const assigned = await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?since=0");
    assert.deepEqual(assigned.body.assignments[0].gpuIndices, [0]);
    assert.equal(assigned.body.assignments[0].env.CUDA_VISIBLE_DEVICES, "0");
    await report(device.deviceToken, a.runId!, "FAILED", { exitCode: 2 });
    const failed = await run(key, a.runId!);
    assert.equal(failed.status, "FAILED");
    assert.equal(failed.exitCode, 2);
    assert.match(failed.reason, /code 2/);
    await placedSoon(key, b.runId!);
    assert.equal((await run(key, c.runId!)).status, "QUEUED");
  });

  test("hello: runs the agent had taken but no longer holds end FAILED", async () => {
    const key = await t.createUser("restarter");
    const facts = deviceFacts("h1", { maxJobs: 3 });
    const device = await t.registerDevice(key, facts);
    const lost = await launch(key);
    const kept = await launch(key);
    const notTaken = await launch(key);
    await report(device.deviceToken, lost.runId!, "RUNNING");
    await report(device.deviceToken, kept.runId!, "RUNNING");
    const hello = await t.call(device.deviceToken, "POST", "/api/v1/agent/hello", { facts, activeRunIds: [kept.runId] });
    assert.equal(hello.status, 200);
    assert.equal(hello.body.deviceId, device.deviceId);
    const failed = await run(key, lost.runId!);
    assert.equal(failed.status, "FAILED");
    assert.equal(failed.reason, "the agent on h1 restarted and lost the run's process");
    assert.equal((await run(key, kept.runId!)).status, "RUNNING");
    await placedSoon(key, notTaken.runId!);

    const rebound = await t.call(key, "POST", "/api/v1/agent/register", { facts, previousDeviceId: device.deviceId });
    assert.equal(rebound.body.deviceId, device.deviceId);
    assert.equal((await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments")).status, 401);
  });
});
