// Clusters end to end: a real server, real agents with simulated GPUs, real bash jobs, driven
// through the SDK and the fedml CLI. The tests run in order and share the clusters they make.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import {
  type AgentProcess,
  type ServerProcess,
  createUser,
  isAlive,
  runCli,
  startAgent,
  startServer,
} from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("clusters");
let server: ServerProcess;
let boxA: AgentProcess;
let boxB: AgentProcess | undefined;
let alice: { serverUrl: string; apiKey: string };
let bob: { serverUrl: string; apiKey: string };
let bobRunId: string;
const order = join(tmp.dir, "order.txt");

type Who = { serverUrl: string; apiKey: string };
const cli = (who: Who, ...args: string[]) =>
  runCli(args, { FEDML_HOME: join(tmp.dir, "cli-home"), FEDML_SERVER_URL: who.serverUrl, FEDML_API_KEY: who.apiKey });

let jobCount = 0;
/** A job wanting `gpus` A100s that appends `tag` to the order file, then waits for `gate` (if any). */
function gpuJob(gpus: number, tag: string, gate?: string): string {
  const lines = [
    "job: |",
    '  echo "$FEDML_ENV_TAG" >> "$FEDML_ENV_ORDER"',
    "  echo started",
    ...(gate ? ['  while [ ! -e "$FEDML_ENV_GATE" ]; do sleep 0.1; done'] : []),
    "computing:",
    `  minimum_num_gpus: ${gpus}`,
    "  resource_type: A100-80GB",
    `tag: ${tag}`,
    `order: ${order}`,
    ...(gate ? [`gate: ${gate}`] : []),
    "",
  ];
  return writeJob(tmp.dir, `job-${++jobCount}`, lines.join("\n"));
}

async function runOf(runId: string, who: Who) {
  const { runList } = await api.runStatus(null, runId, who);
  return runList.runList[0];
}

async function waitForStatus(runId: string, who: Who, wanted: string[], timeoutMs = 30_000) {
  return waitFor(
    `run ${runId} to be ${wanted.join(" or ")}`,
    async () => {
      const run = await runOf(runId, who);
      return wanted.includes(run.status) ? run : undefined;
    },
    timeoutMs,
    100,
  );
}

const waitForEnd = (runId: string, who: Who) => waitForStatus(runId, who, ["FINISHED", "FAILED", "KILLED"]);

async function clusterOf(name: string, who: Who) {
  const { status, clusterList } = await api.clusterStatus(name, who);
  return { status, cluster: clusterList.clusterList[0] };
}

async function rejectsWith(promise: Promise<unknown>, code: number, message: RegExp) {
  await assert.rejects(promise, (err: { resultCode?: number; message: string }) => {
    assert.equal(err.resultCode, code);
    assert.match(err.message, message);
    return true;
  });
}

before(async () => {
  server = await startServer(join(tmp.dir, "server-home"), { extraArgs: ["--stop-grace-ms", "1500"] });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  bob = { serverUrl: server.url, apiKey: await createUser(server, "bob") };
  // Shared, so that only the cluster's reservation keeps bob's runs off it.
  boxA = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent-a"), [
    "--name",
    "box-a",
    "--shared",
    "--simulate-gpus",
    "A100-80GB:2",
    "--max-jobs",
    "4",
  ]);
});

after(async () => {
  await boxA?.stop();
  await boxB?.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("clusters on a real server with simulated GPUs", () => {
  test("the first launch creates the cluster; a second launch runs on the same device", async () => {
    assert.equal(await api.clusterExists("c1", alice), false);
    const first = await api.launchJobOnCluster(gpuJob(2, "first"), "c1", alice);
    assert.equal(first.resultCode, 0, first.resultMsg);
    assert.equal(await api.clusterExists("c1", alice), true);
    const created = await clusterOf("c1", alice);
    assert.deepEqual(created.cluster.deviceIds, [boxA.deviceId]);
    assert.equal(created.cluster.idleMinutes, 15, "auto-stop defaults to 15 idle minutes");
    const firstRun = await waitForEnd(first.runId!, alice);
    assert.equal(firstRun.status, "FINISHED");
    assert.equal(firstRun.deviceInfos[0].deviceId, boxA.deviceId);
    assert.equal((await clusterOf("c1", alice)).status, "IDLE");

    const second = await api.launchJobOnCluster(gpuJob(2, "second"), "c1", alice);
    assert.equal(second.resultCode, 0, second.resultMsg);
    const secondRun = await waitForEnd(second.runId!, alice);
    assert.equal(secondRun.status, "FINISHED");
    assert.equal(secondRun.deviceInfos[0].deviceId, boxA.deviceId, "the same device again");

    const list = await api.clusterList([], alice);
    assert.deepEqual(
      list.clusterList.map((c) => [c.clusterName, c.status]),
      [["c1", "IDLE"]],
    );
    assert.equal(list.clusterList[0].clusterId, created.cluster.clusterId);

    // A job the cluster can never hold is refused with 15 and stores nothing.
    const runsBefore = (await api.runList(null, alice)).runList.length;
    const tooBig = await api.launchJobOnCluster(gpuJob(4, "too-big"), "c1", alice);
    assert.equal(tooBig.resultCode, 15);
    assert.equal(tooBig.runId, null);
    assert.match(tooBig.resultMsg, /^CLUSTER_CONFIRM_FAILED: cluster c1 cannot run this job/);
    assert.equal((await api.runList(null, alice)).runList.length, runsBefore);
  });

  test("a busy cluster runs its jobs in submission order; waiting ones are CLUSTER_QUEUE", async () => {
    writeFileSync(order, "");
    const gate = join(tmp.dir, "gate-1");
    const one = await api.launchJobOnCluster(gpuJob(1, "one", gate), "c1", alice);
    assert.equal(one.resultCode, 0, one.resultMsg);
    await waitForStatus(one.runId!, alice, ["RUNNING"]);
    assert.equal((await clusterOf("c1", alice)).status, "RUNNING");

    const two = await api.launchJobOnCluster(gpuJob(2, "two"), "c1", alice);
    assert.equal(two.resultCode, 5, two.resultMsg);
    assert.ok(two.runId);
    assert.equal((await runOf(two.runId, alice)).status, "CLUSTER_QUEUE");

    // One GPU is free, but three was submitted after two: it waits its turn (through the CLI).
    const three = await cli(alice, "launch", gpuJob(1, "three"), "-c", "c1", "--detach", "--json");
    assert.equal(three.code, 0, three.stderr);
    const threeResult = JSON.parse(three.stdout) as { resultCode: number; runId: string; resultMsg: string };
    assert.equal(threeResult.resultCode, 5);
    assert.match(threeResult.resultMsg, /waiting for its turn on cluster c1 behind 1 earlier run/);
    const threeRun = await runOf(threeResult.runId, alice);
    assert.equal(threeRun.status, "CLUSTER_QUEUE");
    assert.deepEqual(threeRun.deviceInfos, []);

    writeFileSync(gate, "");
    for (const runId of [one.runId!, two.runId, threeResult.runId]) {
      assert.equal((await waitForEnd(runId, alice)).status, "FINISHED");
    }
    assert.deepEqual(readFileSync(order, "utf8").trim().split("\n"), ["one", "two", "three"]);
  });

  test("another user neither sees the cluster nor lands on its devices", async () => {
    assert.deepEqual(await api.clusterList([], bob), { clusterList: [] });
    assert.deepEqual(await api.clusterList(["c1"], bob), { clusterList: [] });
    assert.equal(await api.clusterExists("c1", bob), false);
    await rejectsWith(api.clusterStatus("c1", bob), 15, /^no cluster named c1$/);
    await rejectsWith(api.clusterStop(["c1"], bob), 15, /no cluster named c1/);
    await rejectsWith(api.clusterKill("c1", bob), 15, /no cluster named c1/);
    const stopByCli = await cli(bob, "cluster", "stop", "c1");
    assert.equal(stopByCli.code, 1);
    assert.equal(stopByCli.stderr.trim(), "error: no cluster named c1 (code 15 CLUSTER_CONFIRM_FAILED)");
    assert.equal((await clusterOf("c1", alice)).status, "IDLE", "alice's cluster is untouched");

    // box-a is shared, but reserved for alice's cluster: bob's run waits for it.
    const plain = await api.launchJob(gpuJob(1, "bob", join(tmp.dir, "gate-bob")), bob);
    assert.equal(plain.resultCode, 5, plain.resultMsg);
    bobRunId = plain.runId!;
    assert.equal((await runOf(bobRunId, bob)).status, "QUEUED");
    // bob's own cluster c1 cannot be made from devices reserved for alice.
    const own = await api.launchJobOnCluster(gpuJob(1, "bob-cluster"), "c1", bob);
    assert.equal(own.resultCode, 16);
    assert.equal(own.runId, null);
    assert.match(own.resultMsg, /^CLUSTER_CREATION_FAILED: cannot create cluster c1: /);
    assert.deepEqual(await api.clusterList([], bob), { clusterList: [] });
  });

  test("stop lets the devices go and keeps the cluster; start takes the same or other devices", async () => {
    const stopped = await cli(alice, "cluster", "stop", "c1", "--json");
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(JSON.parse(stopped.stdout), true);
    const status = await cli(alice, "cluster", "status", "c1", "--json");
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { status: string }).status, "STOPPED");
    assert.equal(await api.clusterExists("c1", alice), true, "a stopped cluster still exists");
    assert.equal(await api.clusterStop(["c1"], alice), true, "stopping a stopped cluster succeeds");

    // The device let go takes bob's waiting run, which holds one of its two GPUs.
    await waitForStatus(bobRunId, bob, ["RUNNING"]);
    assert.equal((await runOf(bobRunId, bob)).deviceInfos[0].deviceId, boxA.deviceId);

    // c1 needs two GPUs: with one held on box-a and no other device, it cannot start.
    assert.equal(await api.clusterStart(["c1"], alice), false);
    const refused = await cli(alice, "cluster", "start", "c1");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: cannot start cluster c1: .*\(code 15 CLUSTER_CONFIRM_FAILED\)\n$/);
    assert.equal((await clusterOf("c1", alice)).status, "STOPPED");

    boxB = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent-b"), [
      "--name",
      "box-b",
      "--simulate-gpus",
      "A100-80GB:2",
      "--max-jobs",
      "4",
    ]);
    const started = await cli(alice, "cluster", "start", "c1", "--json");
    assert.equal(started.code, 0, started.stderr);
    assert.equal(JSON.parse(started.stdout), true);
    const moved = await clusterOf("c1", alice);
    assert.equal(moved.status, "IDLE");
    assert.deepEqual(moved.cluster.deviceIds, [boxB.deviceId], "a matching set elsewhere");
    assert.equal(await api.clusterStart("c1", alice), true, "starting a started cluster succeeds");

    writeFileSync(join(tmp.dir, "gate-bob"), "");
    assert.equal((await waitForEnd(bobRunId, bob)).status, "FINISHED");

    // Both boxes are free now; a restart keeps the devices the cluster had.
    assert.equal(await api.clusterStop("c1", alice), true);
    assert.equal(await api.clusterStart(["c1"], alice), true);
    assert.deepEqual((await clusterOf("c1", alice)).cluster.deviceIds, [boxB.deviceId], "the same device when free");
    const again = await api.launchJobOnCluster(gpuJob(2, "after-start"), "c1", alice);
    assert.equal(again.resultCode, 0, again.resultMsg);
    assert.equal((await waitForEnd(again.runId!, alice)).deviceInfos[0].deviceId, boxB.deviceId);
  });

  test("kill ends a running job (process gone) and a killed cluster cannot be started", async () => {
    const pidFile = join(tmp.dir, "kill-pids");
    const path = writeJob(
      tmp.dir,
      "killable",
      [
        "job: |",
        '  echo $$ >> "$FEDML_ENV_PIDFILE"',
        '  sleep 1000 & echo $! >> "$FEDML_ENV_PIDFILE"',
        "  echo started",
        "  wait",
        "computing:",
        "  minimum_num_gpus: 1",
        "  resource_type: A100-80GB",
        `pidfile: ${pidFile}`,
        "",
      ].join("\n"),
    );
    const launched = await api.launchJobOnCluster(path, "c2", alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const runId = launched.runId!;
    await waitFor("the job to start", () => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim().split("\n").length === 2);
    const pids = readFileSync(pidFile, "utf8").trim().split("\n").map(Number);
    assert.ok(pids.every(isAlive));
    const waiting = await api.launchJobOnCluster(gpuJob(2, "never"), "c2", alice);
    assert.equal(waiting.resultCode, 5, waiting.resultMsg);
    const c2Id = (await clusterOf("c2", alice)).cluster.clusterId;

    assert.equal(await api.clusterKill(["c2"], alice), true);
    assert.equal((await waitForEnd(runId, alice)).status, "KILLED");
    const canceled = await runOf(waiting.runId!, alice);
    assert.equal(canceled.status, "KILLED");
    assert.match(canceled.reason ?? "", /cluster c2 was killed/);
    await waitFor("every process of the job to be gone", () => pids.every((p) => !isAlive(p)), 5_000);

    assert.equal(await api.clusterExists("c2", alice), false);
    assert.equal((await clusterOf("c2", alice)).status, "TERMINATED");
    assert.deepEqual(
      (await api.clusterList([], alice)).clusterList.map((c) => c.clusterName),
      ["c1"],
    );
    assert.equal(await api.clusterStart(["c2"], alice), false);
    const refused = await cli(alice, "cluster", "start", "c2");
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /cluster c2 was killed \(TERMINATED\) and cannot be started.*\(code 15 CLUSTER_CONFIRM_FAILED\)/,
    );
    const killedAgain = await cli(alice, "cluster", "kill", "c2", "--json");
    assert.equal(killedAgain.code, 0, killedAgain.stderr);
    assert.equal(JSON.parse(killedAgain.stdout), true, "killing a killed cluster succeeds");

    // The name is free again: a launch makes a new cluster.
    const reborn = await api.launchJobOnCluster(gpuJob(1, "reborn"), "c2", alice);
    assert.equal(reborn.resultCode, 0, reborn.resultMsg);
    assert.notEqual((await clusterOf("c2", alice)).cluster.clusterId, c2Id);
    await waitForEnd(reborn.runId!, alice);
  });

  test("an idle cluster stops by itself after its idle minutes (set from the CLI)", async () => {
    const set = await cli(alice, "cluster", "autostop", "c1", "--idle-minutes", "0.02", "--json");
    assert.equal(set.code, 0, set.stderr);
    assert.equal((JSON.parse(set.stdout) as { idleMinutes: number }).idleMinutes, 0.02);
    const { cluster } = await waitFor(
      "c1 to stop by itself",
      async () => {
        const c = await clusterOf("c1", alice);
        return c.status === "STOPPED" ? c : undefined;
      },
      15_000,
      100,
    );
    assert.match(cluster.reason ?? "", /stopped after 0\.02 idle minutes/);
    assert.equal((await clusterOf("c2", alice)).status, "IDLE", "c2 keeps its 15 minutes");

    // A launch on a stopped cluster starts it again, unless the job cannot fit: then nothing changes.
    const tooBig = await api.launchJobOnCluster(gpuJob(4, "too-big"), "c1", alice);
    assert.equal(tooBig.resultCode, 15);
    assert.equal((await clusterOf("c1", alice)).status, "STOPPED");
    const restarted = await api.launchJobOnCluster(gpuJob(2, "restart"), "c1", alice);
    assert.equal(restarted.resultCode, 0, restarted.resultMsg);
    assert.equal((await waitForEnd(restarted.runId!, alice)).deviceInfos[0].deviceId, boxB?.deviceId);

    const bad = await cli(alice, "cluster", "autostop", "c1", "--idle-minutes", "soon");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--idle-minutes must be a non-negative number/);
  });

  test("list, exists, status, startall, stopall and killall through the SDK and the CLI", async () => {
    assert.equal((await cli(alice, "cluster", "autostop", "c1", "--idle-minutes", "0")).code, 0);
    assert.equal(await api.clusterStartall(alice), true);
    const listed = await cli(alice, "cluster", "list", "--json");
    assert.equal(listed.code, 0, listed.stderr);
    const clusters = (JSON.parse(listed.stdout) as { clusterList: { clusterName: string; status: string }[] }).clusterList;
    assert.deepEqual(
      clusters.map((c) => [c.clusterName, c.status]),
      [
        ["c1", "IDLE"],
        ["c2", "IDLE"],
      ],
    );
    const table = await cli(alice, "cluster", "list", "c1", "nope");
    assert.equal(table.code, 1);
    assert.match(table.stdout, /^NAME +ID +STATUS/);
    assert.match(table.stdout, /\nc1 +\d+ +IDLE/);
    assert.match(table.stderr, /no cluster named nope/);
    const exists = await cli(alice, "cluster", "exists", "c1", "--json");
    assert.equal(exists.code, 0);
    assert.equal(JSON.parse(exists.stdout), true);

    const stopall = await cli(alice, "cluster", "stopall", "--json");
    assert.equal(stopall.code, 0, stopall.stderr);
    assert.equal(JSON.parse(stopall.stdout), true);
    assert.deepEqual(
      (await api.clusterList([], alice)).clusterList.map((c) => c.status),
      ["STOPPED", "STOPPED"],
    );
    const startall = await cli(alice, "cluster", "startall", "--json");
    assert.equal(JSON.parse(startall.stdout), true);
    assert.equal(await api.clusterStopall(alice), true);

    const killall = await cli(alice, "cluster", "killall", "--json");
    assert.equal(killall.code, 0, killall.stderr);
    assert.equal(JSON.parse(killall.stdout), true);
    assert.deepEqual(await api.clusterList([], alice), { clusterList: [] });
    assert.equal(await api.clusterKillall(alice), true, "nothing left to kill");
    const gone = await cli(alice, "cluster", "exists", "c1");
    assert.equal(gone.code, 1);
    assert.equal(gone.stdout.trim(), "no cluster named c1");
    const unknown = await cli(alice, "cluster", "status", "nope");
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim(), "error: no cluster named nope (code 15 CLUSTER_CONFIRM_FAILED)");
    const killedStatus = await cli(alice, "cluster", "status", "c1", "--json");
    assert.equal((JSON.parse(killedStatus.stdout) as { status: string }).status, "TERMINATED");
  });
});
