// End to end on a real Slurm (bench/slurm-up.sh: partition `fedml`, two slurmd "nodes" on this
// machine with 2 gres GPUs each): an agent bound with --slurm, real sbatch jobs, the SDK.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { readRunState } from "../packages/agent/src/runner/run-state.js";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, runCli, startServerWithAgent } from "./support/processes.js";
import { type Caller, waitForRunEnd, waitForRunStatus } from "./support/runs.js";
import { sbatchWrap, scancel, slurmJobState, slurmSkip } from "./support/slurm.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const skip = await slurmSkip();
const tmp = makeTempDir("slurm-e2e");
let server: ServerProcess;
let agent: AgentProcess;
let alice: Caller;
const blockers: string[] = [];

async function launch(name: string, yaml: string, files: Record<string, string> = {}): Promise<string> {
  const result = await api.launchJob(writeJob(tmp.dir, name, yaml, files), alice);
  assert.equal(result.resultCode, 0, result.resultMsg);
  return result.runId as string;
}

async function logLines(runId: string): Promise<string[]> {
  return (await api.runLogs(runId, 1, 100, { needAllLogs: true, ...alice })).logLineList;
}

/** The Slurm job id of a run, from the agent's record of its runs. */
function slurmJobOf(runId: string): string | null {
  return readRunState(agent.home, runId)?.slurm?.jobId ?? null;
}

describe("the Slurm backend on a real Slurm", { skip }, () => {
  before(async () => {
    // Fast polling keeps the tests short; the partition's facts are not re-read mid-test.
    process.env.FEDML_SLURM_POLL_MS = "100";
    process.env.FEDML_SLURM_FACTS_MS = "600000";
    ({
      server,
      agent,
      callers: [alice],
    } = await startServerWithAgent(tmp.dir, {
      users: ["alice"],
      serverArgs: ["--stop-grace-ms", "1500"],
      agentArgs: ["--slurm", "--partition", "fedml", "--name", "hpc", "--provider", "uni-hpc", "--price", "0"],
    }));
  });

  after(async () => {
    for (const id of blockers) await scancel(id);
    await agent?.stop();
    await server?.stop();
    tmp.cleanup();
  });

  test("the partition is one device: its GPUs by model, its nodes in the OS column", async () => {
    const { deviceList } = await api.deviceList(alice);
    const device = deviceList.find((d) => d.deviceId === agent.deviceId);
    assert.ok(device, "the Slurm device is listed");
    assert.equal(device.gpuCount, 4);
    assert.deepEqual([...new Set(device.gpus.map((g) => g.name))], ["A100"]);
    assert.match(device.osVersion, /slurm 22\.\d+\.\d+, fedml, 2 node\(s\)/);
    assert.deepEqual(
      device.clusterNodes?.map((n) => [n.state, n.gpus, n.gpuModel]),
      [
        ["idle", 2, "A100"],
        ["idle", 2, "A100"],
      ],
    );
    // `fedml device list` prints the nodes under the device.
    const cli = await runCli(["device", "list"], { FEDML_SERVER_URL: server.url, FEDML_API_KEY: alice.apiKey });
    assert.equal(cli.code, 0, cli.stderr);
    for (const node of device.clusterNodes ?? []) {
      assert.match(cli.stdout, new RegExp(`^${node.name}\\s+idle\\s+2x A100\\s+\\d+\\s+-$`, "m"));
    }
  });

  test("a job runs to FINISHED as an sbatch job: bootstrap, job, workspace, our environment, its logs", async () => {
    const runId = await launch(
      "hello",
      [
        "workspace: ws",
        "bootstrap: |",
        "  echo bootstrap on $SLURM_JOB_ID",
        "job: |",
        "  cat data.txt",
        '  echo "rank=$FEDML_CLIENT_RANK run=$FEDML_CURRENT_RUN_ID master=$MASTER_ADDR nnodes=$NNODES gpus=$CUDA_VISIBLE_DEVICES"',
        "  echo to stderr >&2",
        "computing:",
        "  minimum_num_gpus: 1",
        "  time_limit: 5m",
        "",
      ].join("\n"),
      { "data.txt": "from the workspace\n" },
    );
    const run = await waitForRunEnd(runId, alice, 60_000);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    const jobId = slurmJobOf(runId);
    assert.ok(jobId, "the run has a Slurm job");
    const lines = await logLines(runId);
    const stdout = lines.filter((l) => l !== "to stderr");
    assert.deepEqual(stdout.slice(0, 2), [`bootstrap on ${jobId}`, "from the workspace"], "stdout in order");
    // One node: rank 1 of 1, MASTER_ADDR the allocation's node, the GPU Slurm gave (gres index 0).
    assert.match(stdout[2] ?? "", new RegExp(`^rank=1 run=${runId} master=\\S+ nnodes=1 gpus=0$`));
    assert.ok(lines.includes("to stderr"), "stderr is shipped too");
    assert.equal(lines.length, 4, "no line lost or repeated");
    // A finished run's folder on the shared file system goes (a failed one stays, to debug).
    await waitFor("the run's shared folder removed", () => !existsSync(join(agent.home, "slurm-runs", runId)), 10_000);
  });

  test("a failing job ends FAILED with its exit code and Slurm's word", async () => {
    const runId = await launch("fail", "job: |\n  echo going down\n  exit 3\n");
    const run = await waitForRunEnd(runId, alice, 60_000);
    assert.equal(run.status, "FAILED");
    assert.equal(run.exitCode, 3);
    assert.match(run.reason ?? "", /Slurm job \d+ failed: job exited with code 3/);
    assert.deepEqual(await logLines(runId), ["going down"]);
    const batch = readFileSync(join(agent.home, "slurm-runs", runId, "batch.sh"), "utf8");
    assert.match(batch, /#SBATCH --partition=fedml\n/);
    assert.doesNotMatch(batch, /--gres/, "no GPU asked, none requested from Slurm");
  });

  test("stop while running: scancel, the run ends KILLED", async () => {
    const runId = await launch("stop", "job: |\n  echo started\n  sleep 120\n");
    await waitForRunStatus(runId, ["RUNNING"], alice, 60_000);
    await waitFor("the job's first line", async () => (await logLines(runId)).includes("started"), 30_000);
    const jobId = slurmJobOf(runId) as string;
    assert.equal(await api.runStop(runId, alice), true);
    const run = await waitForRunEnd(runId, alice, 60_000);
    assert.equal(run.status, "KILLED");
    assert.equal(await slurmJobState(jobId), "CANCELLED");
  });

  test("a job waiting in Slurm's queue shows QUEUED with Slurm's reason, then runs", async () => {
    // Someone else's job holds every GPU of the partition.
    const blocker = await sbatchWrap(["-p", "fedml", "--nodes=2", "--gres=gpu:2"], "sleep 300");
    blockers.push(blocker);
    await waitFor("the blocker running", async () => (await slurmJobState(blocker)) === "RUNNING", 30_000);
    const runId = await launch("queued", "job: echo finally ran\ncomputing:\n  minimum_num_gpus: 1\n");
    const waiting = await waitFor(
      "the run's Slurm reason",
      async () => {
        const run = (await api.runStatus(null, runId, alice)).runList.runList[0];
        return run?.deviceInfos[0]?.status === "QUEUED" && /pending: \w/.test(run.reason ?? "") ? run : undefined;
      },
      30_000,
    );
    assert.match(waiting.reason ?? "", /^Slurm job \d+ is pending: (Resources|Priority)/);
    assert.notEqual(waiting.status, "FINISHED");
    await scancel(blocker);
    const run = await waitForRunEnd(runId, alice, 60_000);
    assert.equal(run.status, "FINISHED");
    assert.ok(!run.reason, "no reason once it ran");
    assert.deepEqual(await logLines(runId), ["finally ran"]);
  });

  test("an agent killed mid-run is restarted and follows its Slurm job on: no line lost or repeated", async () => {
    const gate = join(tmp.dir, "gate");
    const runId = await launch(
      "restart",
      `job: |\n  for i in 1 2 3; do echo before $i; done\n  while [ ! -f ${gate} ]; do sleep 0.1; done\n  for i in 1 2 3; do echo after $i; done\n`,
    );
    await waitFor("the lines before the gate", async () => (await logLines(runId)).length === 3, 60_000);
    const jobId = slurmJobOf(runId) as string;
    await agent.crash();
    // Lines written while no agent watches must not be lost either.
    writeFileSync(gate, "");
    await waitFor("the job's end in Slurm", async () => (await slurmJobState(jobId)) === "COMPLETED", 30_000);
    agent = await agent.restart();
    const run = await waitForRunEnd(runId, alice, 60_000);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    assert.deepEqual(await logLines(runId), ["before 1", "before 2", "before 3", "after 1", "after 2", "after 3"]);
    assert.equal(slurmJobOf(runId), jobId, "the same Slurm job, not a new one");
  });

  test("a 4-GPU job is one allocation of two 2-GPU nodes, each node its own rank", async () => {
    const runId = await launch(
      "gang",
      [
        "job: |",
        '  echo "node_rank=$NODE_RANK client_rank=$FEDML_CLIENT_RANK host=$SLURMD_NODENAME master=$MASTER_ADDR nnodes=$NNODES world=$WORLD_SIZE gpus=$CUDA_VISIBLE_DEVICES"',
        "computing:",
        "  minimum_num_gpus: 4",
        "",
      ].join("\n"),
    );
    const run = await waitForRunEnd(runId, alice, 60_000);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    const lines = (await logLines(runId)).sort();
    assert.equal(lines.length, 2, lines.join("\n"));
    const [first, second] = lines;
    assert.match(first, /^0: node_rank=0 client_rank=1 host=(\S+) master=\1 nnodes=2 world=4 gpus=0,1$/);
    assert.match(second, /^1: node_rank=1 client_rank=2 host=(\S+) master=\S+ nnodes=2 world=4 gpus=0,1$/);
    const hosts = lines.map((l) => /host=(\S+)/.exec(l)?.[1]);
    assert.notEqual(hosts[0], hosts[1], "two different Slurm nodes");
  });

  test("free capacity follows squeue: GPUs other users' jobs hold are not offered, and come back", async () => {
    // This agent re-reads the partition every second.
    process.env.FEDML_SLURM_FACTS_MS = "1000";
    agent = await agent.restart();
    const busyGpus = async () => {
      const { deviceList } = await api.deviceList(alice);
      return deviceList.find((d) => d.deviceId === agent.deviceId)?.gpus.filter((g) => g.busyElsewhere).length;
    };
    const blocker = await sbatchWrap(["-p", "fedml", "--nodes=2", "--gres=gpu:2"], "sleep 300");
    blockers.push(blocker);
    await waitFor("the device's GPUs marked busy", async () => (await busyGpus()) === 4, 30_000);
    const result = await api.launchJob(
      writeJob(tmp.dir, "waits", "job: echo placed once free\ncomputing:\n  minimum_num_gpus: 2\n"),
      alice,
    );
    assert.equal(result.resultCode, 5, "queued by the server: the device could hold it, not now");
    await scancel(blocker);
    await waitFor("the GPUs free again", async () => (await busyGpus()) === 0, 30_000);
    const run = await waitForRunEnd(result.runId as string, alice, 60_000);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
  });

  test("binding refuses a partition Slurm does not have, and Slurm flags without --slurm, changing nothing", async () => {
    const home = join(tmp.dir, "bad-bind");
    const bind = (args: string[]) =>
      runCli(["device", "bind", "--server", server.url, ...args], {
        FEDML_HOME: home,
        FEDML_API_KEY: alice.apiKey,
      });
    const noSuch = await bind(["--slurm", "--partition", "nosuch"]);
    assert.notEqual(noSuch.code, 0);
    assert.match(noSuch.stderr, /--partition: Slurm has no node in nosuch/);
    const withoutSlurm = await bind(["--partition", "fedml"]);
    assert.notEqual(withoutSlurm.code, 0);
    assert.match(withoutSlurm.stderr, /--partition needs --slurm/);
    assert.equal(existsSync(join(home, "agent", "agent.json")), false, "nothing bound");
  });
});
