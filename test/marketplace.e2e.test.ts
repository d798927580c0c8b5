// The GPU marketplace end to end: a real server, real agents with simulated A100s from three
// providers at three prices, real bash jobs, all through the SDK.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, createUser, runCli, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitForRunStatus } from "./support/runs.js";

const tmp = makeTempDir("market");
let server: ServerProcess;
let admin: { serverUrl: string; apiKey: string };
let alice: { serverUrl: string; apiKey: string };
let bob: { serverUrl: string; apiKey: string };
const agents: Record<string, AgentProcess> = {};
const stopFile = join(tmp.dir, "stop-all");

const ENDED = ["FINISHED", "FAILED", "KILLED"];

async function runOf(runId: string, who = alice) {
  const { runList } = await api.runStatus(null, runId, who);
  return runList.runList[0];
}

function waitStatus(runId: string, statuses: string[], who = alice, timeoutMs = 30_000) {
  return waitForRunStatus(runId, statuses, who, timeoutMs);
}

function job(name: string, computing: string[], body: string[]): string {
  return writeJob(
    tmp.dir,
    name,
    ["job: |", ...body.map((l) => `  ${l}`), "computing:", ...computing.map((l) => `  ${l}`), ""].join("\n"),
  );
}

/** A job that runs until `marker` exists (or the suite ends). */
const holdUntil = (marker: string) => [`while [ ! -e ${marker} ] && [ ! -e ${stopFile} ]; do sleep 0.1; done`, "echo released"];

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  server = await startServer(join(tmp.dir, "server-home"), {
    // A lost device's runs fail after its lease (4 s) + kill grace (1 s) + margin (1 s).
    extraArgs: ["--offline-after-ms", "3000", "--lease-ms", "4000", "--stop-grace-ms", "1000"],
  });
  admin = { serverUrl: server.url, apiKey: server.adminKey };
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  bob = { serverUrl: server.url, apiKey: await createUser(server, "bob") };
  const offers = [
    ["lambda-a", "lambda", "1.10"],
    ["runpod-b", "runpod", "0.90"],
    ["community-c", "community", "1.50"],
  ];
  for (const [name, provider, price] of offers) {
    agents[name] = await startAgent(server.url, bob.apiKey, join(tmp.dir, `agent-${name}`), [
      "--name",
      name,
      "--provider",
      provider,
      "--region",
      "eu",
      "--price",
      price,
      "--shared",
      "--simulate-gpus",
      "A100-80G:4:80",
      "--max-jobs",
      "4",
    ]);
  }
});

after(async () => {
  writeFileSync(stopFile, "");
  for (const agent of Object.values(agents)) await agent.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("GPU marketplace through the SDK", () => {
  test("paid devices need credit first (6), and enough of it (24)", async () => {
    const path = job("nocredit", ["minimum_num_gpus: 1", "maximum_cost_per_hour: $5", "resource_type: A100-80GB"], ["echo hi"]);
    const noCard = await api.launchJob(path, alice);
    assert.equal(noCard.resultCode, 6, noCard.resultMsg);
    assert.equal(noCard.runId, null);
    const carol = { serverUrl: server.url, apiKey: await createUser(server, "carol") };
    const granted = await api.userCredit("carol", 0.5, admin);
    assert.equal(granted.cardBound, true);
    const poor = await api.launchJob(path, carol);
    assert.equal(poor.resultCode, 24, poor.resultMsg);
    assert.deepEqual((await api.runList(null, carol)).runList, []);
    const credit = await api.userCredit("alice", 100, admin);
    assert.equal(credit.balance, 100);
  });

  test("the cheapest fitting device is chosen; dry run lists offers cheapest first", async () => {
    const path = job(
      "cheapest",
      ["minimum_num_gpus: 2", "maximum_cost_per_hour: $5", "resource_type: A100 80GB PCIe"],
      ['echo "cuda=$CUDA_VISIBLE_DEVICES"'],
    );
    const dry = await api.launchDryRun(path, alice);
    assert.equal(dry.resultCode, 0, dry.resultMsg);
    assert.deepEqual(
      dry.offers.map((o) => [o.name, o.gpuProvider, o.cost, o.simulated]),
      [
        ["runpod-b", "runpod", 0.9, true],
        ["lambda-a", "lambda", 1.1, true],
        ["community-c", "community", 1.5, true],
      ],
    );
    assert.deepEqual(dry.placement, [{ deviceId: agents["runpod-b"].deviceId, gpuIndices: [0, 1], pricePerGpuHour: 0.9 }]);
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const run = await waitStatus(launched.runId!, ENDED);
    assert.equal(run.status, "FINISHED");
    assert.deepEqual(
      run.deviceInfos.map((d) => d.deviceId),
      [agents["runpod-b"].deviceId],
    );
    const logs = await api.runLogs(launched.runId!, 1, 10, { needAllLogs: true, ...alice });
    assert.deepEqual(logs.logLineList, ["cuda=0,1"]);
  });

  test("a price cap below every candidate gives 4; an unknown GPU model gives 8", async () => {
    const cheap = await api.launchJob(job("cap", ["minimum_num_gpus: 1", "maximum_cost_per_hour: $0.50"], ["echo x"]), alice);
    assert.equal(cheap.resultCode, 4, cheap.resultMsg);
    assert.match(cheap.resultMsg, /cheapest: \$0\.90\/hour on runpod-b/);
    const unknown = await api.launchJob(
      job("b200", ["minimum_num_gpus: 1", "maximum_cost_per_hour: $50", "resource_type: B200"], ["echo x"]),
      alice,
    );
    assert.equal(unknown.resultCode, 8, unknown.resultMsg);
    assert.equal(unknown.runId, null);
  });

  test("a job that fits only when a busy device frees is QUEUED, says why, and then starts by itself", async () => {
    const marker = join(tmp.dir, "free-runpod");
    const computing = ["minimum_num_gpus: 4", "maximum_cost_per_hour: $4", "resource_type: A100-80G"];
    const first = await api.launchJob(job("hold4", computing, holdUntil(marker)), alice);
    assert.equal(first.resultCode, 0, first.resultMsg);
    await waitStatus(first.runId!, ["RUNNING"]);
    const second = await api.launchJob(job("wait4", computing, ["echo second ran"]), alice);
    assert.equal(second.resultCode, 5, second.resultMsg);
    const queued = await runOf(second.runId!);
    assert.equal(queued.status, "QUEUED");
    assert.match(
      queued.reason ?? "",
      /needs 4 x A100-80G under \$4\.00\/h; 3 free within the cap, the cheapest 4th at \$1\.10\/h on lambda-a \(lambda\)/,
    );
    writeFileSync(marker, "");
    const done = await waitStatus(second.runId!, ENDED);
    assert.equal(done.status, "FINISHED");
    assert.deepEqual(
      done.deviceInfos.map((d) => d.deviceId),
      [agents["runpod-b"].deviceId],
    );
    assert.equal((await waitStatus(first.runId!, ENDED)).status, "FINISHED");
  });

  test("an 8-GPU job runs across three 4-GPU devices with consistent ranks and rendezvous variables", async () => {
    const marker = join(tmp.dir, "free-2");
    const two = await api.launchJob(job("hold2", ["minimum_num_gpus: 2", "maximum_cost_per_hour: $2"], holdUntil(marker)), alice);
    assert.equal(two.resultCode, 0, two.resultMsg);
    await waitStatus(two.runId!, ["RUNNING"]);
    const path = job(
      "eight",
      ["minimum_num_gpus: 8", "maximum_cost_per_hour: $20", "resource_type: A100-80G", "allow_cross_cloud_resources: true"],
      [
        'echo "edge=$FEDML_CURRENT_EDGE_ID rank=$FEDML_CLIENT_RANK node_rank=$NODE_RANK nodes=$FEDML_NUM_NODES nnodes=$NNODES world=$WORLD_SIZE nproc=$NPROC_PER_NODE cuda=$CUDA_VISIBLE_DEVICES master=$MASTER_ADDR:$MASTER_PORT node0=$FEDML_NODE_0_ADDR:$FEDML_NODE_0_PORT"',
      ],
    );
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const run = await waitStatus(launched.runId!, ENDED);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    writeFileSync(marker, "");
    const ids = [agents["runpod-b"].deviceId, agents["lambda-a"].deviceId, agents["community-c"].deviceId];
    assert.deepEqual(
      run.deviceInfos.map((d) => [d.deviceId, d.rank, d.gpuCount]),
      [
        [ids[0], 1, 2],
        [ids[1], 2, 4],
        [ids[2], 3, 2],
      ],
    );
    const logs = await api.runLogs(launched.runId!, 1, 10, { needAllLogs: true, ...alice });
    assert.deepEqual(
      logs.runLogs?.logDevices.map((d) => d.id),
      ids,
    );
    const env = logs.logLineList.map((line) =>
      Object.fromEntries(line.split(" ").map((kv) => kv.split("=") as [string, string])),
    );
    assert.equal(env.length, 3);
    assert.deepEqual(
      env.map((e) => [e.edge, e.rank, e.node_rank, e.nproc]),
      [
        [ids[0], "1", "0", "2"],
        [ids[1], "2", "1", "4"],
        [ids[2], "3", "2", "2"],
      ],
    );
    for (const e of env) {
      assert.equal(e.nodes, "3");
      assert.equal(e.nnodes, "3");
      assert.equal(e.world, "8");
      assert.equal(e.master, env[0].master);
      assert.equal(e.node0, env[0].master);
      assert.match(e.master, /^[^:]+:\d+$/);
    }
    assert.deepEqual(
      env.map((e) => e.cuda.split(",").length),
      [2, 4, 2],
    );
    assert.equal((await waitStatus(two.runId!, ENDED)).status, "FINISHED");
  });

  test("cost moves from the run's owner to the device owner; fedml cost sums by provider", async () => {
    const runs = (await api.runList(null, alice)).runList;
    const spent = runs.reduce((s, r) => s + r.cost, 0);
    assert.ok(spent > 0, "paid runs cost something");
    for (const r of runs) {
      assert.ok(r.computeDuration >= 0 && r.runningTime >= 0);
      if (r.status === "FINISHED") assert.ok(r.cost > 0, `run ${r.runId} on paid devices cost ${r.cost}`);
    }
    const mine = await api.creditBalance(alice);
    assert.ok(Math.abs(mine.balance - (100 - spent)) < 1e-4, `${mine.balance} vs ${100 - spent}`);
    assert.ok(mine.ledger.some((e) => e.kind === "charge" && e.amount < 0));
    const landlord = await api.creditBalance(bob);
    assert.ok(Math.abs(landlord.balance - spent) < 1e-4, `${landlord.balance} vs ${spent}`);
    const report = await api.costReport(alice);
    assert.ok(Math.abs(report.total - spent) < 1e-4);
    assert.deepEqual(report.byProvider.map((l) => l.key).sort(), ["community", "lambda", "runpod"]);
    assert.deepEqual(
      report.byProject.map((l) => l.key),
      ["default"],
    );
    // The same money per day (summed in the database) and per device of the provider.
    const daily = await api.spendByDay({ ...alice, days: 2 });
    assert.equal(daily.dayList.length, 2);
    assert.ok(Math.abs(daily.spent - spent) < 1e-4, `per day ${daily.spent} vs ${spent}`);
    const earnings = await api.earningsReport(bob);
    assert.ok(Math.abs(earnings.total - spent) < 1e-4, `earned ${earnings.total} vs ${spent}`);
    assert.ok(earnings.byDevice.every((d) => ["lambda-a", "runpod-b", "community-c"].includes(d.deviceName ?? "")));
  });

  test("the CLI: launch --dry-run prints offers cheapest first; cost, credit and user credit", async () => {
    const env = { FEDML_HOME: join(tmp.dir, "cli-home"), FEDML_SERVER_URL: server.url, FEDML_API_KEY: alice.apiKey };
    const path = job("cli-dry", ["minimum_num_gpus: 1", "maximum_cost_per_hour: $5", "resource_type: A100-80GB"], ["echo x"]);
    const dry = await runCli(["launch", "--dry-run", path], env);
    assert.equal(dry.code, 0, dry.stderr);
    const rows = dry.stdout.split("\n").filter((l) => /(simulated)/.test(l));
    assert.deepEqual(
      rows.map((l) => l.split(/\s+/)[1]),
      ["runpod-b", "lambda-a", "community-c"],
    );
    assert.match(dry.stdout, /would run on \S+ \(device \d+, GPU 0\) at \$0\.90\/h/);
    const capped = await runCli(
      ["launch", "--dry-run", job("cli-cap", ["minimum_num_gpus: 1", "maximum_cost_per_hour: $0.10"], ["echo"])],
      env,
    );
    assert.equal(capped.code, 1);
    assert.match(capped.stdout, /would answer 4 BLOCKED/);
    const cost = await runCli(["cost"], env);
    assert.equal(cost.code, 0, cost.stderr);
    assert.match(cost.stdout, /PROVIDER[\s\S]*runpod[\s\S]*total \$/);
    const refused = await runCli(["user", "credit", "alice", "5"], env);
    assert.notEqual(refused.code, 0, "only admins grant credit");
    const granted = await runCli(["user", "credit", "alice", "5", "--json"], { ...env, FEDML_API_KEY: server.adminKey });
    assert.equal(granted.code, 0, granted.stderr);
    const before = (await api.creditBalance(alice)).balance;
    assert.equal(JSON.parse(granted.stdout).balance, before);
    const mine = await runCli(["credit"], env);
    assert.match(mine.stdout, /alice: balance \$/);
    const daily = await runCli(["cost", "--days", "2"], env);
    assert.equal(daily.code, 0, daily.stderr);
    assert.match(daily.stdout, /DAY\s+SPENT\s+EARNED[\s\S]*spent \$[\d.]+, earned \$0\.00/);
    const earned = await runCli(["earnings"], { ...env, FEDML_API_KEY: bob.apiKey });
    assert.match(earned.stdout, /runpod-b[\s\S]*total \$/);
    const region = await runCli(["offers", "--region", "EU", "--provider", "runpod", "--json"], env);
    assert.deepEqual(
      JSON.parse(region.stdout).offerList.map((d: { name: string }) => d.name),
      ["runpod-b"],
    );
  });

  test("killing a device's agent fails its run within the timeout, frees its GPUs, and retries elsewhere when asked", async () => {
    const path = job(
      "lost",
      ["minimum_num_gpus: 4", "maximum_cost_per_hour: $10", "retry:", "  limit: 1"],
      holdUntil(join(tmp.dir, "never")),
    );
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const running = await waitStatus(launched.runId!, ["RUNNING"]);
    assert.deepEqual(
      running.deviceInfos.map((d) => d.deviceId),
      [agents["runpod-b"].deviceId],
    );
    await agents["runpod-b"].crash();
    const failed = await waitStatus(launched.runId!, ["FAILED"], alice, 15_000);
    assert.match(failed.reason ?? "", /device runpod-b went offline; retried as run (\d+)/);
    const retryId = /retried as run (\d+)/.exec(failed.reason ?? "")![1];
    const devices = (await api.deviceList(bob)).deviceList;
    const runpod = devices.find((d) => d.name === "runpod-b")!;
    assert.equal(runpod.status, "OFFLINE");
    assert.deepEqual(runpod.runningRunIds, [], "the lost device holds no run");
    const retried = await waitStatus(retryId, ["RUNNING"]);
    assert.deepEqual(
      retried.deviceInfos.map((d) => d.deviceId),
      [agents["lambda-a"].deviceId],
    );
    assert.equal(await api.runStop(retryId, alice), true);
    assert.equal((await waitStatus(retryId, ENDED)).status, "KILLED");
    // Back online, its GPUs are all free again: a 4-GPU job placed there now.
    agents["runpod-b"] = await agents["runpod-b"].restart();
    const again = await api.launchJob(job("after", ["minimum_num_gpus: 4", "maximum_cost_per_hour: $4"], ["echo back"]), alice);
    assert.equal(again.resultCode, 0, again.resultMsg);
    const done = await waitStatus(again.runId!, ENDED);
    assert.equal(done.status, "FINISHED");
    assert.deepEqual(
      done.deviceInfos.map((d) => d.deviceId),
      [agents["runpod-b"].deviceId],
    );
  });
});
