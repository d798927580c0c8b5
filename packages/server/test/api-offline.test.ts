import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

let t: TestServer;
before(async () => {
  t = await startTestServer({ offlineAfterMs: 400 });
});
after(() => t.stop());

test("a silent device goes OFFLINE, its runs fail, and a heartbeat brings it back", async () => {
  const key = await t.createUser("frank");
  const device = await t.registerDevice(key, deviceFacts("quiet"));
  const launched = await t.call(key, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
  assert.equal(launched.body.resultCode, 0);
  const runId = launched.body.runId as string;
  await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/status`, { status: "RUNNING" });

  const deadline = Date.now() + 5000;
  let run = (await t.call(key, "GET", `/api/v1/runs/${runId}`)).body;
  while (run.status !== "FAILED" && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    run = (await t.call(key, "GET", `/api/v1/runs/${runId}`)).body;
  }
  assert.equal(run.status, "FAILED");
  assert.equal(run.reason, "device quiet went offline");
  const listed = await t.call(key, "GET", "/api/v1/devices");
  assert.equal(listed.body.deviceList[0].status, "OFFLINE");
  const none = await t.call(key, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
  assert.equal(none.body.resultCode, 8);

  await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0");
  assert.equal((await t.call(key, "GET", "/api/v1/devices")).body.deviceList[0].status, "IDLE");
});
