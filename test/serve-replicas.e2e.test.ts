// Endpoints as services, end to end: real server, three real agents, the example model server.
// Replicas spread over devices and providers and share the traffic; a killed replica loses no request that
// could be retried and is replaced; a launch under the same endpoint name rolls the endpoint
// to the new version with every request answered; a burst (or a fast stream, on requests per
// second) scales replicas up and the quiet after it scales them down; an endpoint scaled to
// zero starts a replica for its first request; a replica whose device goes offline moves to
// another device.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { EndpointModel } from "@fedml/core";
import { api } from "fedml";
import { readRunState } from "../packages/agent/src/runner/run-state.js";
import { writeJob } from "./support/jobs.js";
import { repoRoot } from "./support/paths.js";
import { type AgentProcess, type ServerProcess, createUser, runCli, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

type Conn = { serverUrl: string; apiKey: string };
const tmp = makeTempDir("serve-replicas");
let server: ServerProcess;
const agents: AgentProcess[] = [];
let alice: Conn;
const serveScript = readFileSync(join(repoRoot, "examples", "serve_model", "model", "serve.py"), "utf8");

function serveJob(name: string, servingArgs: string, version = "v1"): string {
  const yaml = `workspace: ws\njob_type: serve\nserving_args:\n  endpoint_name: ${name}\n${servingArgs}job: |\n  MODEL_VERSION=${version} python3 serve.py\n`;
  return writeJob(tmp.dir, `${name}-${version}-${Math.random().toString(36).slice(2, 8)}`, yaml, { "serve.py": serveScript });
}

async function launch(path: string): Promise<{ runId: string; endpointId: string }> {
  const launched = await api.launchJob(path, alice);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  return { runId: launched.runId!, endpointId: launched.innerId! };
}

const status = (endpointId: string) => api.endpointStatus(endpointId, alice) as Promise<EndpointModel>;
const readyReplicas = (e: EndpointModel) => e.replicas.filter((r) => r.status === "READY");

async function waitReady(
  endpointId: string,
  count: number,
  extra: (e: EndpointModel) => boolean = () => true,
  timeoutMs = 60_000,
) {
  return waitFor(
    `endpoint ${endpointId} with ${count} ready replicas`,
    async () => {
      const e = await status(endpointId);
      return readyReplicas(e).length === count && extra(e) ? e : undefined;
    },
    timeoutMs,
    200,
  );
}

async function get(endpointId: string, path = ""): Promise<{ status: number; body: { run?: string; version?: string } }> {
  const answer = await fetch(`${server.url}/inference/${endpointId}/${path}`, {
    headers: { authorization: `Bearer ${alice.apiKey}` },
  });
  const text = await answer.text();
  let body: { run?: string; version?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: answer.status, body };
}

/** Sequential GETs until stopped; every answer kept. */
function requestStream(endpointId: string) {
  const answers: { status: number; version?: string; run?: string }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const { status, body } = await get(endpointId);
      answers.push({ status, version: body.version, run: body.run });
    }
  })();
  return {
    answers,
    stop: async () => {
      running = false;
      await done;
      return answers;
    },
  };
}

async function deleteEndpoint(endpointId: string) {
  await api.endpointDelete(endpointId, alice);
  await waitFor(
    `replicas of endpoint ${endpointId} ended`,
    async () => (await status(endpointId)).replicas.every((r) => r.status === "ENDED"),
    30_000,
    200,
  );
}

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  // A silent device shows OFFLINE after 3 s and loses its runs a lease later: the move test waits on that.
  server = await startServer(join(tmp.dir, "server-home"), {
    extraArgs: ["--stop-grace-ms", "1000", "--offline-after-ms", "3000", "--lease-ms", "4000"],
  });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  // Two providers: box-a and box-b are cloud-x's, box-c is cloud-y's.
  for (const [name, provider] of [
    ["box-a", "cloud-x"],
    ["box-b", "cloud-x"],
    ["box-c", "cloud-y"],
  ]) {
    const args = ["--name", name, "--max-jobs", "4", "--provider", provider];
    agents.push(await startAgent(server.url, alice.apiKey, join(tmp.dir, name), args));
  }
});

after(async () => {
  for (const agent of agents) await agent.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("endpoint replicas, load balancing, rolling updates and autoscaling", () => {
  let trio: string;

  test("three replicas come up on three devices and all receive traffic", async () => {
    ({ endpointId: trio } = await launch(serveJob("trio", "  replicas: 3\n")));
    const ready = await waitReady(trio, 3);
    assert.equal(ready.status, "READY");
    assert.equal(
      new Set(readyReplicas(ready).map((r) => r.deviceId)).size,
      3,
      `one replica per device: ${JSON.stringify(ready.replicas)}`,
    );
    const runs = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const { status: code, body } = await get(trio);
      assert.equal(code, 200);
      runs.add(body.run!);
    }
    assert.deepEqual(
      [...runs].sort(),
      readyReplicas(ready)
        .map((r) => r.runId)
        .sort(),
    );
    // The proxy counts a request once the replica's answer has ended, a moment after the caller has it.
    const counted = await waitFor("30 requests counted", async () => {
      const e = await status(trio);
      return e.requestCount >= 30 ? e : undefined;
    });
    assert.ok(
      counted.replicas.filter((r) => r.status === "READY").every((r) => r.requestCount > 0),
      JSON.stringify(counted.replicas),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const requests = new RegExp(`^fedml_endpoint_requests_total\\{endpoint="${trio}"\\} (\\d+)`, "m").exec(metrics);
    assert.ok(requests && Number(requests[1]) >= 30, "per-endpoint request count on /metrics");
    assert.match(metrics, new RegExp(`^fedml_endpoint_request_duration_seconds_count\\{endpoint="${trio}"\\} \\d+`, "m"));
    const env = { FEDML_HOME: join(tmp.dir, "cli-home"), FEDML_SERVER_URL: server.url, FEDML_API_KEY: alice.apiKey };
    const cli = await runCli(["endpoint", "status", trio], env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /replicas: 3; generation 1; requests \d+/);
    assert.equal((cli.stdout.match(/^\S+\s+\S+\s+READY\s+1\s+\d+/gm) ?? []).length, 3, cli.stdout);
  });

  test("killing a replica's process loses no request, and the replica is replaced", async () => {
    const before = readyReplicas(await status(trio));
    const victim = before[0];
    const agent = agents.find((a) => a.deviceId === victim.deviceId)!;
    const state = readRunState(agent.home, victim.runId) ?? { pgid: 0 };
    const stream = requestStream(trio);
    await waitFor("some answers", () => stream.answers.length >= 5, 20_000);
    const pgid = state.pgid ?? 0;
    assert.ok(pgid > 1, `the job's process group: ${JSON.stringify(state)}`);
    process.kill(-pgid, "SIGKILL");
    const replaced = await waitReady(trio, 3, (e) => !readyReplicas(e).some((r) => r.runId === victim.runId));
    const newcomer = readyReplicas(replaced).find((r) => !before.some((b) => b.runId === r.runId));
    assert.ok(newcomer, "a new replica took the dead one's place");
    await waitFor("the new replica gets traffic", () => stream.answers.some((a) => a.run === newcomer.runId), 20_000);
    const answers = await stream.stop();
    assert.deepEqual(
      answers.filter((a) => a.status !== 200),
      [],
      `answers: ${JSON.stringify(answers.map((a) => `${a.status}:${a.run}`))}`,
    );
    assert.equal(replaced.replicas.find((r) => r.runId === victim.runId)?.status, "ENDED");
  });

  test("a replica failing its readiness probe leaves the rotation", async () => {
    const { endpointId } = await launch(
      serveJob("probed", "  replicas: 2\n  readiness_probe_path: /ready\n  readiness_probe_interval_seconds: 1\n"),
    );
    await waitReady(endpointId, 2);
    const flipped = await fetch(`${server.url}/inference/${endpointId}/unready`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.apiKey}` },
      body: "{}",
    });
    assert.equal(flipped.status, 200);
    const sick = ((await flipped.json()) as { run: string }).run;
    const after = await waitFor(
      "the replica UNHEALTHY",
      async () => {
        const e = await status(endpointId);
        return e.replicas.find((r) => r.runId === sick)?.status === "UNHEALTHY" ? e : undefined;
      },
      30_000,
      200,
    );
    assert.equal(after.status, "READY", "the endpoint still has a ready replica");
    for (let i = 0; i < 10; i++) {
      const { status: code, body } = await get(endpointId);
      assert.equal(code, 200);
      assert.notEqual(body.run, sick);
    }
    await deleteEndpoint(endpointId);
  });

  test("a launch under the same endpoint name rolls it to the new version, answering every request", async () => {
    const stream = requestStream(trio);
    await waitFor("some answers", () => stream.answers.length >= 5, 20_000);
    const update = await launch(serveJob("trio", "  replicas: 2\n", "v2"));
    assert.equal(update.endpointId, trio, "the endpoint keeps its id (and URL)");
    const rolled = await waitReady(
      trio,
      2,
      (e) => e.generation === 2 && e.replicas.every((r) => r.generation === 2 || r.status === "ENDED"),
    );
    await waitFor("answers from v2", () => stream.answers.filter((a) => a.version === "v2").length >= 10, 20_000);
    const answers = await stream.stop();
    assert.deepEqual(
      answers.filter((a) => a.status !== 200),
      [],
    );
    const versions = answers.map((a) => a.version);
    const firstV2 = versions.indexOf("v2");
    assert.ok(firstV2 > 0, "v1 answered first");
    assert.ok(
      versions.slice(firstV2).every((v) => v === "v2"),
      "once v2 answers, only v2 answers",
    );
    assert.equal(readyReplicas(rolled).length, 2);
    await deleteEndpoint(trio);
  });

  test("two replicas run on two providers; a replica's device going offline moves it to another device", async () => {
    const { endpointId } = await launch(serveJob("mover", "  replicas: 2\n"));
    const before = await waitReady(endpointId, 2);
    const providerOf = (deviceId: string | null) => (deviceId === agents[2].deviceId ? "cloud-y" : "cloud-x");
    assert.deepEqual(
      readyReplicas(before)
        .map((r) => providerOf(r.deviceId))
        .sort(),
      ["cloud-x", "cloud-y"],
      `spread across providers: ${JSON.stringify(before.replicas)}`,
    );
    // The cloud-x replica's agent dies (its device goes silent); the free cloud-x box takes it over.
    const lost = readyReplicas(before).find((r) => providerOf(r.deviceId) === "cloud-x")!;
    const index = agents.findIndex((a) => a.deviceId === lost.deviceId);
    await agents[index].crash();
    try {
      const moved = await waitReady(endpointId, 2, (e) => readyReplicas(e).every((r) => r.deviceId !== lost.deviceId), 90_000);
      assert.equal(moved.replicas.find((r) => r.runId === lost.runId)?.status, "ENDED");
      assert.deepEqual(
        new Set(readyReplicas(moved).map((r) => r.deviceId)),
        new Set(agents.filter((_, i) => i !== index).map((a) => a.deviceId)),
      );
      for (let i = 0; i < 6; i++) assert.equal((await get(endpointId)).status, 200);
    } finally {
      agents[index] = await agents[index].restart();
    }
    await deleteEndpoint(endpointId);
  });

  test("a burst scales 1 -> 3 replicas and the quiet after it scales back to 1", async () => {
    const { endpointId } = await launch(
      serveJob("elastic", "  min_replicas: 1\n  max_replicas: 3\n  target_inflight_requests: 1\n  scale_down_delay_seconds: 2\n"),
    );
    await waitReady(endpointId, 1);
    // Slow requests (1.6 s each) keep 6 in flight at once.
    let burst = true;
    const workers = Array.from({ length: 6 }, async () => {
      while (burst) assert.equal((await get(endpointId, "stream?n=5&gap_ms=400")).status, 200);
    });
    const scaled = await waitReady(endpointId, 3, () => true, 90_000);
    assert.equal(scaled.desiredReplicas, 3);
    burst = false;
    await Promise.all(workers);
    const quiet = await waitFor(
      "scaled back to one replica",
      async () => {
        const e = await status(endpointId);
        const live = e.replicas.filter((r) => r.status !== "ENDED");
        return e.desiredReplicas === 1 && live.length === 1 ? e : undefined;
      },
      60_000,
      200,
    );
    assert.equal(readyReplicas(quiet).length, 1);
    assert.equal((await get(endpointId)).status, 200);
    await deleteEndpoint(endpointId);
  });

  test("on requests per second: a fast stream with one request in flight scales 1 -> 2, the quiet back to 1", async () => {
    const { endpointId } = await launch(
      serveJob("rated", "  min_replicas: 1\n  max_replicas: 2\n  target_requests_per_second: 5\n  scale_down_delay_seconds: 2\n"),
    );
    await waitReady(endpointId, 1);
    // One request at a time (an in-flight target would keep one replica), tens a second.
    const stream = requestStream(endpointId);
    const scaled = await waitReady(endpointId, 2, () => true, 90_000);
    assert.equal(scaled.desiredReplicas, 2);
    await stream.stop();
    assert.ok(stream.answers.every((a) => a.status === 200));
    const quiet = await waitFor(
      "scaled back to one replica",
      async () => {
        const e = await status(endpointId);
        return e.desiredReplicas === 1 && e.replicas.filter((r) => r.status !== "ENDED").length === 1 ? e : undefined;
      },
      60_000,
      200,
    );
    assert.equal(readyReplicas(quiet).length, 1);
    await deleteEndpoint(endpointId);
  });

  test("min_replicas: 0 scales to zero when idle, and the first request starts a replica", async () => {
    const { endpointId } = await launch(
      serveJob("sleepy", "  min_replicas: 0\n  max_replicas: 1\n  scale_down_delay_seconds: 3\n"),
    );
    await waitReady(endpointId, 1);
    await waitFor(
      "scaled to zero",
      async () => {
        const e = await status(endpointId);
        return e.desiredReplicas === 0 && e.replicas.every((r) => r.status === "ENDED");
      },
      60_000,
      200,
    );
    const cold = await get(endpointId);
    assert.equal(cold.status, 200);
    assert.equal(cold.body.version, "v1");
    await deleteEndpoint(endpointId);
  });
});
