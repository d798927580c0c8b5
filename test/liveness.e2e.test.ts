// Stalls and fencing with real processes: the control plane or an agent is paused with SIGSTOP
// while real jobs run. A paused server sweeps no device and fails no run; an agent paused past
// its lease has its job stopped (by its lease watchdog) before the server retries the run
// elsewhere, so no run ever runs twice; a shorter pause costs nothing.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, createUser, startAgent, startServer, waitForHello } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";
import { waitForRunStatus } from "./support/runs.js";

const tmp = makeTempDir("liveness");
let server: ServerProcess;
let alice: { serverUrl: string; apiKey: string };
const agents: AgentProcess[] = [];
const ENDED = ["FINISHED", "FAILED", "KILLED"];

// Offline after 2 s; lease 5 s; a silent device's parts are lost after 5 + 0.5 + 1.25 = 6.75 s.
const SERVER_ARGS = ["--offline-after-ms", "2000", "--lease-ms", "5000", "--stop-grace-ms", "500"];

async function runOf(runId: string) {
  return (await api.runStatus(null, runId, alice)).runList.runList[0];
}

function waitStatus(runId: string, statuses: string[], timeoutMs = 30_000) {
  return waitForRunStatus(runId, statuses, alice, timeoutMs);
}

/**
 * A job printing up to `ticks` lines 0.1 s apart, each also appended to `file` with a timestamp
 * and its run id; it ends early once `release-<run id>` exists in the test's folder.
 */
function tickJob(name: string, ticks: number, file: string, extra = ""): string {
  const release = join(tmp.dir, "release-$FEDML_CURRENT_RUN_ID");
  return writeJob(
    tmp.dir,
    name,
    [
      "job: |",
      `  for i in $(seq 1 ${ticks}); do [ -e ${release} ] && break; echo "tick $i"; echo "$(date +%s%N) $FEDML_CURRENT_RUN_ID" >> ${file}; sleep 0.1; done`,
      extra,
      "",
    ].join("\n"),
  );
}

const ticksOf = (file: string, runId: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l.endsWith(` ${runId}`)).length;

const pause = (p: AgentProcess | ServerProcess) => p.child.kill("SIGSTOP");
const resume = (p: AgentProcess | ServerProcess) => p.child.kill("SIGCONT");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Started and heard: its daemon said hello (binding alone already shows the device online). */
async function startHeardAgent(name: string): Promise<AgentProcess> {
  const home = join(tmp.dir, name);
  const agent = await startAgent(server.url, alice.apiKey, home, ["--name", name]);
  await waitForHello(agent);
  return agent;
}

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  server = await startServer(join(tmp.dir, "server-home"), { extraArgs: SERVER_ARGS });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  agents.push(await startHeardAgent("agent-a"));
});

after(async () => {
  for (const p of [server, ...agents]) if (p) resume(p);
  for (const agent of agents) await agent.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("stalls and fencing", () => {
  test("a server paused past the offline timeout sweeps no device and its run finishes", async () => {
    const launched = await api.launchJob(tickJob("server-stall", 40, join(tmp.dir, "server-stall.ticks")), alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const runId = launched.runId!;
    await waitFor("the first lines", async () => (await api.runLogs(runId, 1, 10, alice)).totalLogLines >= 3);
    pause(server);
    await sleep(3000); // past the offline timeout, within the lease
    resume(server);
    // Timers fire before requests are read: a sweep that were to run has run before this answer.
    const devices = (await api.deviceList(alice)).deviceList;
    assert.deepEqual(
      devices.map((d) => d.status),
      ["RUNNING"],
      "no device swept after the stall",
    );
    const run = await waitStatus(runId, ENDED);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    assert.equal((await api.runLogs(runId, 1, 100, { needAllLogs: true, ...alice })).totalLogLines, 40);
  });

  test("an agent paused shorter than its lease loses nothing: its run keeps running and is not retried", async () => {
    const launched = await api.launchJob(
      tickJob("agent-blip", 40, join(tmp.dir, "agent-blip.ticks"), "computing:\n  retry: 1"),
      alice,
    );
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const runId = launched.runId!;
    await waitStatus(runId, ["RUNNING"]);
    pause(agents[0]);
    await sleep(2500); // past the offline timeout, within the lease
    assert.equal((await runOf(runId)).status, "RUNNING", "the lease still holds");
    resume(agents[0]);
    const run = await waitStatus(runId, ENDED);
    assert.equal(run.status, "FINISHED", run.reason ?? "");
    const ticks = readFileSync(join(tmp.dir, "agent-blip.ticks"), "utf8").trim().split("\n");
    assert.equal(ticks.length, 40, "the job ran on, once");
  });

  test("an agent paused past its lease: its job is stopped before the run is retried elsewhere, never twice at once", async () => {
    const ticksFile = join(tmp.dir, "fenced.ticks");
    // 300 ticks (30 s): far longer than the lease, so only a kill ends the original early.
    const launched = await api.launchJob(tickJob("fenced", 300, ticksFile, "computing:\n  retry: 1"), alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const runId = launched.runId!;
    await waitStatus(runId, ["RUNNING"]);
    agents.push(await startHeardAgent("agent-b"));
    pause(agents[0]);
    const failed = await waitStatus(runId, ["FAILED"], 60_000);
    assert.match(failed.reason ?? "", /device agent-a went offline; retried as run (\d+)/);
    const retryId = /retried as run (\d+)/.exec(failed.reason ?? "")![1];
    await waitFor("the retry's first ticks", () => ticksOf(ticksFile, retryId) >= 10, 60_000);
    writeFileSync(join(tmp.dir, `release-${retryId}`), "");
    const retried = await waitStatus(retryId, ENDED, 60_000);
    assert.equal(retried.status, "FINISHED", retried.reason ?? "");
    assert.deepEqual(
      retried.deviceInfos.map((d) => d.deviceId),
      [agents[1].deviceId],
    );
    resume(agents[0]);

    const lines = readFileSync(ticksFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    const times = (id: string) => lines.filter(([, run]) => run === id).map(([ns]) => BigInt(ns));
    const original = times(runId);
    const retry = times(retryId);
    assert.ok(original.length > 0 && original.length < 300, `the original ran ${original.length} ticks, then was stopped`);
    assert.ok(retry.length >= 10);
    const lastOriginal = original.reduce((a, b) => (a > b ? a : b));
    const firstRetry = retry.reduce((a, b) => (a < b ? a : b));
    assert.ok(
      lastOriginal < firstRetry,
      `the original's last tick ${Number(firstRetry - lastOriginal) / -1e6} ms after the retry's first: it ran twice at once`,
    );
    // Back from its pause, the agent holds nothing for the lost run.
    await waitFor("agent-a back", async () =>
      (await api.deviceList(alice)).deviceList.some((d) => d.deviceId === agents[0].deviceId && d.status !== "OFFLINE"),
    );
    assert.equal(ticksOf(ticksFile, runId), original.length, "the original never resumed");
  });
});
