// Federated jobs end to end: a real server, five real agents of two users, the FedAvg example
// (real python3 processes talking over loopback), the refusals, and platform filtering.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import { repoRoot } from "./support/paths.js";
import { type AgentProcess, type ServerProcess, createUser, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

type Conn = { serverUrl: string; apiKey: string };
const tmp = makeTempDir("federate");
let server: ServerProcess;
let alice: Conn;
let bob: Conn;
const agents: AgentProcess[] = [];
let fl: AgentProcess[] = [];
let bobsDevice: AgentProcess;
let goneDevice: AgentProcess;

const fedavgYaml = join(repoRoot, "examples", "federated_fedavg", "job.yaml");
const endStates = ["FINISHED", "FAILED", "KILLED"];

async function waitForStatus(runId: string, conn: Conn, wanted: string[], timeoutMs = 60_000) {
  return waitFor(
    `run ${runId} to be ${wanted.join("/")}`,
    async () => {
      const { status, runList } = await api.runStatus(null, runId, conn);
      return status && wanted.includes(status) ? runList.runList[0] : undefined;
    },
    timeoutMs,
    200,
  );
}

async function runCount(conn: Conn): Promise<number> {
  return (await api.runList(null, conn)).runList.length;
}

const agentArgs = (name: string) => ["--name", name, "--address", "127.0.0.1", "--max-jobs", "1"];

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  server = await startServer(join(tmp.dir, "server-home"), {
    extraArgs: ["--stop-grace-ms", "1500", "--offline-after-ms", "4000"],
  });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  bob = { serverUrl: server.url, apiKey: await createUser(server, "bob") };
  for (let i = 1; i <= 4; i++) {
    agents.push(await startAgent(server.url, alice.apiKey, join(tmp.dir, `fl-${i}`), agentArgs(`fl-${i}`)));
  }
  fl = [...agents];
  bobsDevice = await startAgent(server.url, bob.apiKey, join(tmp.dir, "bob-1"), agentArgs("bob-1"));
  agents.push(bobsDevice);
  goneDevice = await startAgent(server.url, alice.apiKey, join(tmp.dir, "gone"), agentArgs("gone"));
  await goneDevice.stop();
  await waitFor(
    "the stopped device to be OFFLINE",
    async () =>
      (await api.deviceList(alice)).deviceList.some((d) => d.deviceId === goneDevice.deviceId && d.status === "OFFLINE"),
    20_000,
    200,
  );
});

after(async () => {
  for (const agent of agents) await agent.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("federated jobs", () => {
  test("FedAvg on an explicit server and three edges finishes, and the global accuracy rises", async () => {
    const [srv, ...edges] = fl;
    const launched = await api.launchJob(fedavgYaml, {
      ...alice,
      deviceServer: srv.deviceId,
      deviceEdges: edges.map((e) => e.deviceId),
    });
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    assert.equal(launched.innerId, null);
    const run = await waitForStatus(launched.runId!, alice, endStates, 180_000);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    assert.equal(run.platform, "octopus");
    assert.deepEqual(
      run.deviceInfos.map((d) => [d.deviceId, d.rank]),
      fl.map((a, rank) => [a.deviceId, rank]),
    );

    const lines = (await api.runLogs(launched.runId!, 1, 1000, { ...alice, needAllLogs: true })).logLineList;
    const accuracies = lines
      .map((l) => /^round (\d+)\/8 global model test accuracy ([\d.]+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[1] !== "0")
      .map((m) => Number(m[2]));
    assert.equal(accuracies.length, 8, lines.join("\n"));
    assert.ok(accuracies[7] > accuracies[0], `accuracy rose: ${accuracies.join(" ")}`);
    assert.ok(lines.includes("training finished"));
    for (const rank of [1, 2, 3]) assert.ok(lines.includes(`edge ${rank}: training finished`), `edge ${rank} finished`);
  });

  test("without devices named, the matcher picks a server and every fitting edge; each node gets its env", async () => {
    const path = writeJob(
      tmp.dir,
      "fed-env",
      [
        "job_type: federate",
        "server_job: |",
        '  echo "server rank=$FEDML_CLIENT_RANK role=$FEDML_ROLE edges=$FEDML_NUM_EDGES fl=$FEDML_FL_SERVER_ADDR node0=$FEDML_NODE_0_ADDR:$FEDML_NODE_0_PORT run=$FEDML_CURRENT_RUN_ID"',
        "job: |",
        '  echo "edge rank=$FEDML_CLIENT_RANK role=$FEDML_ROLE edges=$FEDML_NUM_EDGES fl=$FEDML_FL_SERVER_ADDR run=$FEDML_CURRENT_RUN_ID"',
        "computing:",
        "  minimum_num_gpus: 0",
        "",
      ].join("\n"),
    );
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const runId = launched.runId!;
    const run = await waitForStatus(runId, alice, endStates);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    // Every online, free device of alice's (not bob's, not the offline one): 1 server + 3 edges.
    assert.deepEqual(run.deviceInfos.map((d) => d.rank).sort(), [0, 1, 2, 3]);
    assert.deepEqual(run.deviceInfos.map((d) => d.deviceId).sort(), fl.map((a) => a.deviceId).sort());
    const lines = (await api.runLogs(runId, 1, 100, { ...alice, needAllLogs: true })).logLineList;
    const port = String(40000 + (Number(runId) % 10000));
    assert.ok(
      lines.includes(`server rank=0 role=server edges=3 fl=127.0.0.1:${port} node0=127.0.0.1:${port} run=${runId}`),
      lines.join("\n"),
    );
    for (const rank of [1, 2, 3]) {
      assert.ok(lines.includes(`edge rank=${rank} role=edge edges=3 fl=127.0.0.1:${port} run=${runId}`), lines.join("\n"));
    }
  });

  test("computing.num_edges picks that many edges, and more than fit is refused with nothing stored", async () => {
    const yaml = (n: number) =>
      `job_type: federate\nserver_job: echo server\njob: echo edge $FEDML_CLIENT_RANK\ncomputing:\n  num_edges: ${n}\n`;
    const two = await api.launchJob(writeJob(tmp.dir, "fed-two", yaml(2)), alice);
    assert.equal(two.resultCode, 0, two.resultMsg);
    const run = await waitForStatus(two.runId!, alice, endStates);
    assert.equal(run.status, "FINISHED");
    assert.deepEqual(run.deviceInfos.map((d) => d.rank).sort(), [0, 1, 2]);

    const before = await runCount(alice);
    const five = await api.launchJob(writeJob(tmp.dir, "fed-five", yaml(5)), alice);
    assert.equal(five.resultCode, 8, five.resultMsg);
    assert.equal(five.runId, null);
    assert.match(five.resultMsg, /needs a server and 5 edges on distinct devices/);
    assert.equal(await runCount(alice), before);
  });

  test("too few devices free now: the run queues with the reason, and server and edges start together once they free", async () => {
    const e3 = fl[3].deviceId;
    const sleeper = await api.launchJob(writeJob(tmp.dir, "fed-blocker", "job: sleep 60\n"), { ...alice, resourceId: e3 });
    assert.equal(sleeper.resultCode, 0, sleeper.resultMsg);
    await waitForStatus(sleeper.runId!, alice, ["RUNNING"]);
    const yaml = "job_type: federate\nserver_job: echo server\njob: echo edge $FEDML_CLIENT_RANK\ncomputing:\n  num_edges: 3\n";
    const waiting = await api.launchJob(writeJob(tmp.dir, "fed-wait", yaml), alice);
    assert.equal(waiting.resultCode, 5, waiting.resultMsg);
    assert.match(waiting.resultMsg, /waiting for 4 devices to be free at once for the federated server and its edges/);
    const queued = await waitForStatus(waiting.runId!, alice, ["QUEUED"]);
    assert.match(queued.reason ?? "", /waiting for 4 devices/);
    assert.deepEqual(queued.deviceInfos, []);

    assert.equal(await api.runStop(sleeper.runId!, alice), true);
    const run = await waitForStatus(waiting.runId!, alice, endStates);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    assert.deepEqual(run.deviceInfos.map((d) => d.rank).sort(), [0, 1, 2, 3]);
    assert.deepEqual(run.deviceInfos.map((d) => d.deviceId).sort(), fl.map((a) => a.deviceId).sort());
  });

  test("every refusal of named devices is one line with its code, and stores nothing", async () => {
    const [srv, e1, e2, e3] = fl.map((a) => a.deviceId);
    const before = await runCount(alice);
    const launch = (deviceServer: string | null, deviceEdges: string[] | null, yaml = fedavgYaml) =>
      api.launchJob(yaml, { ...alice, deviceServer, deviceEdges });

    const unknown = await launch(srv, [e1, "999999"]);
    assert.equal(unknown.resultCode, 3);
    assert.match(unknown.resultMsg, /^edge device 999999 does not exist$/);

    const notMine = await launch(srv, [e1, bobsDevice.deviceId]);
    assert.equal(notMine.resultCode, 3);
    assert.match(notMine.resultMsg, new RegExp(`^edge device ${bobsDevice.deviceId} \\(bob-1\\) is not yours and not shared`));

    const offline = await launch(goneDevice.deviceId, [e1, e2]);
    assert.equal(offline.resultCode, 8);
    assert.match(offline.resultMsg, new RegExp(`^server device ${goneDevice.deviceId} \\(gone\\) is offline`));

    const twice = await launch(srv, [e1, srv]);
    assert.equal(twice.resultCode, 3);
    assert.match(twice.resultMsg, /is named twice/);

    const noServer = await launch(null, [e1]);
    assert.equal(noServer.resultCode, 3);
    assert.match(noServer.resultMsg, /device_edges was given without device_server/);

    const notFederated = await launch(srv, [e1], writeJob(tmp.dir, "plain", "job: echo hi\n"));
    assert.equal(notFederated.resultCode, 3);
    assert.match(notFederated.resultMsg, /for federated jobs/);

    // Busy: a long job holds e3's only slot.
    const sleeper = await api.launchJob(writeJob(tmp.dir, "sleeper", "job: sleep 60\n"), { ...alice, resourceId: e3 });
    assert.equal(sleeper.resultCode, 0, sleeper.resultMsg);
    await waitForStatus(sleeper.runId!, alice, ["RUNNING"]);
    const beforeBusy = await runCount(alice);
    const busy = await launch(srv, [e1, e2, e3]);
    assert.equal(busy.resultCode, 30);
    assert.match(busy.resultMsg, new RegExp(`^edge device ${e3} \\(fl-4\\) is busy`));
    assert.equal(await runCount(alice), beforeBusy);
    assert.equal(await api.runStop(sleeper.runId!, alice), true);
    await waitForStatus(sleeper.runId!, alice, ["KILLED"]);

    assert.equal(await runCount(alice), before + 1, "only the sleeper was stored");
  });

  test("runs record their platform, and list/status/stop/logs filter by it", async () => {
    const all = (await api.runList(null, alice)).runList;
    const federated = all.filter((r) => r.jobType === "federate");
    const plain = all.filter((r) => r.jobType !== "federate");
    assert.ok(federated.length >= 2 && plain.length >= 1);
    assert.ok(federated.every((r) => r.platform === "octopus"));
    assert.ok(plain.every((r) => r.platform === "falcon"));

    const ids = async (platform: string) => (await api.runList(null, { ...alice, platform })).runList.map((r) => r.runId).sort();
    assert.deepEqual(await ids("octopus"), federated.map((r) => r.runId).sort());
    assert.deepEqual(await ids("falcon"), plain.map((r) => r.runId).sort());
    assert.deepEqual(await ids("launch"), plain.map((r) => r.runId).sort(), "launch is falcon");
    assert.deepEqual(await ids("no-such-platform"), plain.map((r) => r.runId).sort(), "unknown names fall back to falcon");
    assert.deepEqual(await ids("parrot"), []);

    const fedRun = federated[0].runId;
    assert.equal((await api.runStatus(null, fedRun, { ...alice, platform: "octopus" })).status, "FINISHED");
    await assert.rejects(api.runStatus(null, fedRun, { ...alice, platform: "falcon" }), { resultCode: 25 });
    await assert.rejects(api.runLogs(fedRun, 1, 10, { ...alice, platform: "falcon" }), { resultCode: 25 });
    await assert.rejects(api.runStop(fedRun, { ...alice, platform: "falcon" }), { resultCode: 25 });
    assert.ok((await api.runLogs(fedRun, 1, 10, { ...alice, platform: "octopus" })).totalLogLines > 0);
    assert.equal(await api.runStop(fedRun, { ...alice, platform: "octopus" }), false, "an ended run is not stopped again");
  });
  test("a federated GPU run on the user's own priced devices costs the user nothing", async () => {
    // Own devices are free to their owner (the marketplace rule); the run's parts must carry
    // the price the matcher gave the requester, not the devices' list price.
    const priced = [];
    for (const name of ["own-gpu-1", "own-gpu-2"]) {
      const agent = await startAgent(server.url, alice.apiKey, join(tmp.dir, name), [
        ...agentArgs(name),
        "--simulate-gpus",
        "A100-80GB:1",
        "--price",
        "3",
      ]);
      agents.push(agent);
      priced.push(agent);
    }
    const path = join(tmp.dir, "priced-fl.yaml");
    writeFileSync(
      path,
      "job_type: federate\nserver_job: sleep 1\njob: sleep 1\ncomputing:\n  minimum_num_gpus: 1\n  resource_type: A100-80GB\n",
    );
    const launched = await api.launchJob(path, { ...alice, deviceServer: priced[0].deviceId, deviceEdges: [priced[1].deviceId] });
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const run = await waitForStatus(launched.runId!, alice, endStates);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    assert.ok(run.computeDuration > 0);
    assert.equal(run.cost, 0);
    for (const agent of priced) await agent.stop();
  });
});
