// Serving end to end: a real server and agent, the tiny served model example (a real python3
// HTTP server), the readiness probe, the inference proxy through the agent's tunnel, and
// endpoint removal. The agent advertises an address nothing can reach (it stands for a machine
// behind NAT) and listens on no port: inference works all the same.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { createServer } from "node:http";
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
  // 203.0.113.0/24 is reserved for documentation: no packet to it arrives anywhere.
  agent = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent"), ["--name", "gpu-box", "--address", "203.0.113.7"]);
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

    // No path after the id: the job's root, with the query.
    const root = await fetch(`${server.url}/inference/${endpointId}?y=2`, {
      headers: { authorization: `Bearer ${alice.apiKey}` },
    });
    assert.equal(root.status, 200);
    assert.equal(((await root.json()) as { path: string }).path, "/?y=2");

    const noKey = await infer(endpointId, "predict", { method: "POST", body: "{}", key: null });
    assert.equal(noKey.status, 401);
    const wrongKey = await infer(endpointId, "predict", {
      method: "POST",
      body: "{}",
      key: "not-a-key",
      headers: { "x-request-id": "trace-17" },
    });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.headers.get("x-request-id"), "trace-17");
    assert.match(((await wrongKey.json()) as { error: string }).error, /^API key not accepted by /);
    const othersKey = await infer(endpointId, "predict", { method: "POST", body: "{}", key: bob.apiKey });
    assert.equal(othersKey.status, 404);
    assert.equal(((await othersKey.json()) as { resultCode: number }).resultCode, 25);

    // Each request is timed by its route's template, as every other route is.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      metrics,
      /^fedml_http_request_duration_seconds_count\{method="POST",route="\/inference\/:id\/\*",status_code="200"\} [1-9]/m,
    );
    assert.match(
      metrics,
      /^fedml_http_request_duration_seconds_count\{method="GET",route="\/inference\/:id",status_code="200"\} [1-9]/m,
    );
    assert.match(
      metrics,
      /^fedml_http_request_duration_seconds_count\{method="POST",route="\/inference\/:id\/\*",status_code="401"\} [1-9]/m,
    );
  });

  test("bodies stream through the proxy both ways, byte for byte", async () => {
    const payload = randomBytes(24 * 1024 * 1024);
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

  test("a chunked answer streams through chunk by chunk, not buffered to the end", async () => {
    const started = Date.now();
    const answer = await infer(endpointId, "stream?n=6&gap_ms=250");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("content-length"), null);
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    let firstAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (firstAt === 0) firstAt = Date.now();
      text += decoder.decode(value, { stream: true });
    }
    const endedAt = Date.now();
    assert.equal(text, [0, 1, 2, 3, 4, 5].map((i) => `chunk ${i}\n`).join(""));
    // The job spends 1.25 s between its first and last chunk; a buffering proxy would hand both over at once.
    assert.ok(endedAt - firstAt >= 800, `first chunk ${firstAt - started} ms in, end ${endedAt - started} ms in`);
  });

  test("the agent listens on no port: requests reach it down the connection it opened", () => {
    const pid = agent.child.pid;
    assert.ok(pid);
    assert.deepEqual(listeningPortsOf(pid), []);
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

  test("a device reporting another address or port cannot make the server fetch it", async () => {
    let hits = 0;
    const secret = createServer((_request, response) => {
      hits++;
      response.end("internal secret");
    });
    await new Promise<void>((resolve) => secret.listen(0, "127.0.0.1", resolve));
    try {
      const secretPort = (secret.address() as { port: number }).port;
      const path = writeJob(tmp.dir, "ssrf", "job_type: serve\njob: |\n  sleep 600\n");
      const launched = await api.launchJob(path, alice);
      assert.equal(launched.resultCode, 0, launched.resultMsg);
      const endpointId = launched.innerId!;
      await waitFor(
        "run RUNNING",
        async () => (await api.runStatus(null, launched.runId!, alice)).status === "RUNNING",
        20_000,
        100,
      );
      // With the device's own token: it claims the server's loopback as its address and the
      // secret server's port as the job's.
      const { deviceToken } = JSON.parse(readFileSync(join(agent.home, "agent.json"), "utf8")) as { deviceToken: string };
      const asDevice = (path: string, body: unknown) =>
        fetch(`${server.url}/api/v1/agent/${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const facts = {
        name: "gpu-box",
        hostname: "gpu-box",
        osType: "Linux",
        osVersion: "6",
        cpuCount: 4,
        memoryBytes: 8 * 1024 ** 3,
        gpus: [],
        agentVersion: "0.1.0",
        address: "127.0.0.1",
        provider: "self",
        region: "local",
        pricePerGpuHour: 0,
        shared: false,
        simulated: false,
        maxJobs: 4,
      };
      const hello = await asDevice("hello", { facts, activeRunIds: [launched.runId] });
      assert.equal(hello.status, 200, await hello.text());
      const forged = await asDevice(`runs/${launched.runId}/serving`, { port: secretPort, ready: true });
      assert.equal(forged.status, 200);
      assert.equal((await api.endpointStatus(endpointId, alice)).status, "READY");
      for (const method of ["GET", "POST"]) {
        const answer = await infer(endpointId, "", { method, body: method === "POST" ? "{}" : undefined });
        assert.equal(answer.status, 502);
        assert.doesNotMatch(await answer.text(), /internal secret/);
      }
      assert.equal(hits, 0, "the server fetched the address the device reported");
      await api.runStop(launched.runId!, alice);
    } finally {
      secret.close();
    }
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

/** TCP ports process `pid` listens on (Linux /proc; none where /proc is absent). */
function listeningPortsOf(pid: number): number[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {}
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let lines: string[];
    try {
      lines = readFileSync(table, "utf8").split("\n").slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      // st 0A is LISTEN; column 9 is the socket's inode.
      if (cols[3] === "0A" && inodes.has(cols[9])) ports.push(Number.parseInt(cols[1].split(":")[1], 16));
    }
  }
  return ports;
}
