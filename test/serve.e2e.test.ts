// Serving end to end: a real server and agent, the tiny served model example (a real python3
// HTTP server), the readiness probe, the inference proxy and endpoint removal.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import { repoRoot } from "./support/paths.js";
import { type AgentProcess, type ServerProcess, createUser, runCli, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

type Conn = { serverUrl: string; apiKey: string };
const tmp = makeTempDir("serve");
let server: ServerProcess;
let agent: AgentProcess;
let alice: Conn;
let bob: Conn;
const serveYaml = join(repoRoot, "examples", "serve_model", "job.yaml");

async function waitForEndpoint(endpointId: string, status: string) {
  return waitFor(
    `endpoint ${endpointId} ${status}`,
    async () => {
      const endpoint = await api.endpointStatus(endpointId, alice);
      return endpoint.status === status ? endpoint : undefined;
    },
    30_000,
    100,
  );
}

function infer(endpointId: string, path: string, init: RequestInit & { key?: string | null } = {}) {
  const { key = alice.apiKey, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  return fetch(`${server.url}/inference/${endpointId}/${path}`, { ...rest, headers, duplex: "half" } as RequestInit);
}

async function launchServing(): Promise<{ runId: string; endpointId: string }> {
  const launched = await api.launchJob(serveYaml, alice);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  assert.ok(launched.innerId, "a serve job returns its endpoint id as innerId");
  return { runId: launched.runId!, endpointId: launched.innerId };
}

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  server = await startServer(join(tmp.dir, "server-home"), { extraArgs: ["--stop-grace-ms", "1500"] });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  bob = { serverUrl: server.url, apiKey: await createUser(server, "bob") };
  agent = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent"), ["--name", "gpu-box", "--address", "127.0.0.1"]);
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("serve jobs and endpoints", () => {
  let runId: string;
  let endpointId: string;

  test("a serve launch makes an endpoint that turns READY once the job answers its probe", async () => {
    ({ runId, endpointId } = await launchServing());
    const fresh = await api.endpointStatus(endpointId, alice);
    assert.equal(fresh.runId, runId);
    assert.equal(fresh.endpointName, "tiny-logistic");
    assert.equal(fresh.modelName, "tiny-logistic");
    assert.equal(fresh.modelVersion, "v1");
    const ready = await waitForEndpoint(endpointId, "READY");
    assert.equal(ready.deviceId, agent.deviceId);
    assert.ok(ready.readyTime);
    assert.equal(ready.inferenceUrl, `${server.url}/inference/${endpointId}/`);
    const listed = await api.endpointList(alice);
    assert.deepEqual(
      listed.endpointList.map((e) => e.endpointId),
      [endpointId],
    );
    assert.deepEqual((await api.endpointList(bob)).endpointList, []);
    const run = (await api.runStatus(null, runId, alice)).runList.runList[0];
    assert.equal(run.status, "RUNNING");
    assert.equal(run.platform, "falcon");
  });

  test("the proxy forwards to the model for the owner's key, and refuses others", async () => {
    const predicted = await infer(endpointId, "predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        inputs: [
          [0, 0],
          [2, 0],
        ],
      }),
    });
    assert.equal(predicted.status, 200);
    const body = (await predicted.json()) as { outputs: number[] };
    assert.deepEqual(body.outputs, [0.562177, 0.962673]);

    const probe = await infer(endpointId, "some/path?x=1");
    assert.equal(probe.status, 200);
    assert.equal(((await probe.json()) as { path: string }).path, "/some/path?x=1");

    const noKey = await infer(endpointId, "predict", { method: "POST", body: "{}", key: null });
    assert.equal(noKey.status, 401);
    const wrongKey = await infer(endpointId, "predict", { method: "POST", body: "{}", key: "not-a-key" });
    assert.equal(wrongKey.status, 401);
    const othersKey = await infer(endpointId, "predict", { method: "POST", body: "{}", key: bob.apiKey });
    assert.equal(othersKey.status, 404);
    assert.equal(((await othersKey.json()) as { resultCode: number }).resultCode, 25);
  });

  test("bodies stream through the proxy both ways, byte for byte", async () => {
    const payload = randomBytes(6 * 1024 * 1024);
    const echoed = await infer(endpointId, "echo", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: payload,
    });
    assert.equal(echoed.status, 200);
    const back = Buffer.from(await echoed.arrayBuffer());
    assert.equal(back.length, payload.length);
    assert.equal(createHash("sha256").update(back).digest("hex"), createHash("sha256").update(payload).digest("hex"));
  });

  test("stopping the run removes the endpoint: the proxy stops forwarding", async () => {
    assert.equal(await api.runStop(runId, alice), true);
    const removed = await api.endpointStatus(endpointId, alice);
    assert.equal(removed.status, "REMOVED");
    const after = await infer(endpointId, "predict", { method: "POST", body: "{}" });
    assert.equal(after.status, 404);
    await waitFor("run KILLED", async () => (await api.runStatus(null, runId, alice)).status === "KILLED", 20_000, 100);
    assert.deepEqual((await api.endpointList(alice)).endpointList, []);
  });

  test("a serving job that never answers stays DEPLOYING and the proxy says it is not ready", async () => {
    const path = writeJob(
      tmp.dir,
      "silent",
      "job_type: serve\njob: |\n  echo not listening on $FEDML_SERVING_PORT\n  sleep 600\n",
    );
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    await waitFor(
      "run RUNNING",
      async () => (await api.runStatus(null, launched.runId!, alice)).status === "RUNNING",
      20_000,
      100,
    );
    const lines = await waitFor("its first line", async () => {
      const logs = await api.runLogs(launched.runId!, 1, 10, alice);
      return logs.logLineList.length > 0 ? logs.logLineList : undefined;
    });
    assert.match(lines[0], /^not listening on \d+$/);
    assert.equal((await api.endpointStatus(launched.innerId!, alice)).status, "DEPLOYING");
    const answer = await infer(launched.innerId!, "predict", { method: "POST", body: "{}" });
    assert.equal(answer.status, 503);
    assert.match(((await answer.json()) as { error: string }).error, /has not answered its readiness probe yet/);
    await api.runStop(launched.runId!, alice);
    await waitFor("run KILLED", async () => (await api.runStatus(null, launched.runId!, alice)).status === "KILLED", 20_000, 100);
    assert.equal((await api.endpointStatus(launched.innerId!, alice)).status, "REMOVED");
  });

  test("fedml endpoint list | status | delete", async () => {
    const second = await launchServing();
    await waitForEndpoint(second.endpointId, "READY");
    const env = { FEDML_HOME: join(tmp.dir, "cli-home"), FEDML_SERVER_URL: server.url, FEDML_API_KEY: alice.apiKey };
    const list = await runCli(["endpoint", "list", "--json"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { endpointList: { endpointId: string }[] }).endpointList.map((e) => e.endpointId),
      [second.endpointId],
    );
    const status = await runCli(["endpoint", "status", second.endpointId], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /READY/);
    const deleted = await runCli(["endpoint", "delete", second.endpointId, "--json"], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: true, endpointId: second.endpointId, runId: second.runId });
    assert.equal((await api.endpointStatus(second.endpointId, alice)).status, "REMOVED");
    await waitFor("run KILLED", async () => (await api.runStatus(null, second.runId, alice)).status === "KILLED", 20_000, 100);
    const unknown = await runCli(["endpoint", "status", "999999"], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /endpoint 999999 not found/);
  });
});
