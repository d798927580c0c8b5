import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Assignment } from "@fedml/core";
import { type AgentConfig, writeAgentConfig } from "../src/config.js";
import { runAgent } from "../src/daemon.js";
import { watchdogEnv } from "../src/daemon/lease.js";
import { watchdogTickMs } from "../src/daemon/lease-watchdog.js";
import { LOST_RUN_REASON } from "../src/daemon/recovery.js";
import { readRunState, writeRunState } from "../src/runner/run-state.js";
import { StandInServer } from "./stand-in-server.js";
import { eventually, isProcessLive, liveGroupMembers } from "./support.js";

const server = new StandInServer();
const homes: string[] = [];
const stops: (() => Promise<void>)[] = [];

before(() => server.start());
after(() => server.stop());
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
  server.intercept = null;
  server.withoutReportBatches = false;
  server.reportDelayMs = 0;
  server.assign([]);
});

function boundHome(settings: Partial<AgentConfig> = {}): string {
  const home = mkdtempSync(join(tmpdir(), "fedml-agent-"));
  homes.push(home);
  writeAgentConfig(home, {
    // These tests are about the daemon, not isolation (test/isolation.e2e.test.ts): no job users to make.
    jobUser: "agent",
    ...settings,
    serverUrl: server.url,
    deviceId: "dev-1",
    deviceToken: server.token,
    name: "test-box",
    provider: "",
    region: "",
    pricePerGpuHour: 0,
    shared: false,
    simulateGpus: "A100-80GB:2",
    maxJobs: 2,
    address: "127.0.0.1",
  });
  return home;
}

function startAgent(home: string) {
  const controller = new AbortController();
  const messages: string[] = [];
  const done = runAgent({
    home,
    signal: controller.signal,
    log: (m) => messages.push(m),
    backoff: { initialMs: 10, maxMs: 100 },
    maxPollWaitMs: 300,
    stopGraceMs: 500,
    shutdownFlushMs: 1000,
  });
  const stop = async () => {
    controller.abort();
    await done.catch(() => {});
  };
  stops.push(stop);
  return { done, stop, messages };
}

function assignment(runId: string, job: string, extra: Partial<Assignment> = {}): Assignment {
  return {
    runId,
    rank: 1,
    nodeIndex: 0,
    numNodes: 1,
    gpuIndices: [0],
    workspaceSha256: null,
    bootstrap: null,
    job: { posix: job, windows: null },
    env: { FEDML_CURRENT_RUN_ID: runId, CUDA_VISIBLE_DEVICES: "0" },
    stopRequested: false,
    stopGraceMs: 1000,
    ...extra,
  };
}

const final = (runId: string) => () => ["FINISHED", "FAILED", "KILLED"].includes(server.statusesOf(runId).at(-1) ?? "");

describe("runAgent", () => {
  test("hello with facts, runs an assignment, reports FINISHED only after every line is acked", async () => {
    const home = boundHome();
    const hellosBefore = server.hellos.length;
    startAgent(home);
    assert.ok(await eventually(() => server.hellos.length > hellosBefore));
    const hello = server.hellos.at(-1);
    assert.equal(hello?.facts.gpus.length, 2);
    assert.equal(hello?.facts.simulated, true);
    assert.equal(hello?.facts.name, "test-box");
    assert.deepEqual(hello?.activeRunIds, []);

    server.assign([assignment("run-ok", 'for i in $(seq 1 1500); do echo "line $i"; done\necho "gpu=$CUDA_VISIBLE_DEVICES"')]);
    assert.ok(await eventually(final("run-ok"), 5000));
    assert.deepEqual(server.statusesOf("run-ok"), ["RUNNING", "FINISHED"]);
    assert.equal(server.textsOf("run-ok").length, 1501);
    assert.equal(server.textsOf("run-ok").at(-1), "gpu=0");
    assert.equal(server.linesAtStatus.get("run-ok")?.at(-1), 1501);
    assert.ok(await eventually(() => readRunState(home, "run-ok")?.reported === true));
  });

  test("the reports of runs ending together share requests, each run's in order", async () => {
    const home = boundHome();
    startAgent(home);
    assert.ok(await eventually(() => server.hellos.some((h) => h.facts.name === "test-box")));
    // A slow server: the reports made while one request is on its way go in the next.
    server.reportDelayMs = 150;
    const requestsBefore = server.reportRequests.length;
    const ids = ["b1", "b2", "b3", "b4", "b5", "b6"];
    server.assign(ids.map((id) => assignment(id, id === "b6" ? "exit 3" : "true")));
    assert.ok(await eventually(() => ids.every((id) => final(id)()), 10_000));
    for (const id of ids.slice(0, 5)) assert.deepEqual(server.statusesOf(id), ["RUNNING", "FINISHED"]);
    assert.deepEqual(server.statusesOf("b6"), ["RUNNING", "FAILED"]);
    assert.equal(server.statuses.get("b6")?.at(-1)?.exitCode, 3);
    const requests = server.reportRequests.slice(requestsBefore);
    assert.equal(
      requests.reduce((sum, n) => sum + n, 0),
      12,
    );
    assert.ok(requests.length < 12, `12 reports took ${requests.length} requests: ${requests.join(",")}`);
    assert.ok(await eventually(() => ids.every((id) => readRunState(home, id)?.reported === true)));
  });

  test("a server without the batch route gets the reports one by one", async () => {
    server.withoutReportBatches = true;
    const home = boundHome();
    startAgent(home);
    const requestsBefore = server.reportRequests.length;
    server.assign([assignment("one-by-one", "echo hi")]);
    assert.ok(await eventually(final("one-by-one"), 5000));
    assert.deepEqual(server.statusesOf("one-by-one"), ["RUNNING", "FINISHED"]);
    assert.deepEqual(server.reportRequests.slice(requestsBefore), [1, 1]);
  });

  test("stopRequested kills the run's process group and reports KILLED", async () => {
    const home = boundHome();
    startAgent(home);
    server.assign([assignment("run-stop", 'sleep 1000 & echo "bg $!"; sleep 1000; wait')]);
    assert.ok(await eventually(() => server.textsOf("run-stop").length > 0, 3000));
    const bgPid = Number(server.textsOf("run-stop")[0].slice(3));
    const pgid = readRunState(home, "run-stop")?.pgid ?? 0;
    server.assign([assignment("run-stop", "unused", { stopRequested: true })]);
    assert.ok(await eventually(final("run-stop"), 3000));
    assert.equal(server.statusesOf("run-stop").at(-1), "KILLED");
    assert.ok(await eventually(() => !isProcessLive(bgPid)));
    assert.deepEqual(liveGroupMembers(pgid), []);
  });

  test("says hello again after the server comes back, and takes work from it", async () => {
    const home = boundHome();
    startAgent(home);
    assert.ok(await eventually(() => server.hellos.some((h) => h.facts.name === "test-box")));
    const hellosBefore = server.hellos.length;
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.start();
    assert.ok(await eventually(() => server.hellos.length > hellosBefore, 3000));
    server.assign([assignment("run-after-restart", "echo back")]);
    assert.ok(await eventually(final("run-after-restart"), 3000));
    assert.deepEqual(server.textsOf("run-after-restart"), ["back"]);
  });

  test("while the server is down log lines spill to the run folder, not the heap; all arrive when it is back", async () => {
    // The job waits for a file this test makes: it shares the agent's user.
    const home = boundHome();
    startAgent(home);
    const go = join(home, "go");
    const lines = 25_000;
    server.assign([assignment("run-spill", `echo waiting\nwhile [ ! -e "${go}" ]; do sleep 0.05; done\nseq 1 ${lines}`)]);
    assert.ok(await eventually(() => server.textsOf("run-spill").includes("waiting"), 5000));
    await server.stop();
    writeFileSync(go, "");
    const spill = join(home, "runs", "run-spill", "log-spill.jsonl");
    const spilledLines = () => (existsSync(spill) ? readFileSync(spill, "utf8").split("\n").length - 1 : 0);
    // At most 20,000 lines wait in memory: the rest of the 25,000 is on disk.
    assert.ok(await eventually(() => spilledLines() >= lines - 20_000, 10_000), `spilled ${spilledLines()}`);
    await server.start();
    assert.ok(await eventually(final("run-spill"), 20_000));
    const texts = server.textsOf("run-spill");
    assert.equal(texts.length, lines + 1);
    assert.deepEqual(
      texts.slice(1),
      Array.from({ length: lines }, (_, i) => String(i + 1)),
    );
    assert.ok(!existsSync(spill), "the spill file is removed once every line is delivered");
  });

  test("a restarted agent kills what its predecessor left and reports the run FAILED", async () => {
    const home = boundHome();
    const leftover = spawn("bash", ["-c", "sleep 1000 & sleep 1000; wait"], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, FEDML_CURRENT_RUN_ID: "run-lost" },
    });
    const pgid = leftover.pid ?? 0;
    assert.ok(await eventually(() => liveGroupMembers(pgid).length === 3));
    writeRunState(home, {
      runId: "run-lost",
      status: "RUNNING",
      pid: pgid,
      pgid,
      exitCode: null,
      reason: null,
      reported: false,
      updatedTime: 0,
    });
    startAgent(home);
    assert.ok(await eventually(final("run-lost"), 3000));
    // The predecessor's process was never timed by this agent: no runtime is claimed for it.
    assert.deepEqual(server.statuses.get("run-lost")?.at(-1), {
      status: "FAILED",
      exitCode: null,
      reason: LOST_RUN_REASON,
      runtimeMs: null,
    });
    // SIGKILL is delivered asynchronously: on a loaded machine the group takes a moment to go.
    assert.ok(await eventually(() => liveGroupMembers(pgid).length === 0, 3000), `left: ${liveGroupMembers(pgid)}`);
  });

  test("re-sends the final status of a run it already ended while the server lists it", async () => {
    const home = boundHome();
    writeRunState(home, {
      runId: "run-done",
      status: "FINISHED",
      pid: null,
      pgid: null,
      exitCode: 0,
      reason: null,
      reported: true,
      updatedTime: 0,
    });
    startAgent(home);
    server.assign([assignment("run-done", "echo must not run again")]);
    assert.ok(await eventually(final("run-done"), 3000));
    assert.equal(server.statusesOf("run-done").at(-1), "FINISHED");
    assert.deepEqual(server.textsOf("run-done"), []);
  });

  test("one agent per home", async () => {
    const home = boundHome();
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      writeFileSync(join(home, "agent.pid"), `${other.pid}\n`);
      await assert.rejects(runAgent({ home, log: () => {} }), new RegExp(`agent already running \\(pid ${other.pid}\\)`));
    } finally {
      other.kill("SIGKILL");
    }
  });

  test("stopping the agent kills its runs, reports them FAILED 'agent stopped', and frees the home", async () => {
    const home = boundHome();
    const agent = startAgent(home);
    server.assign([assignment("run-shutdown", "echo started; sleep 1000")]);
    assert.ok(await eventually(() => server.textsOf("run-shutdown").includes("started"), 3000));
    assert.equal(readFileSync(join(home, "agent.pid"), "utf8").trim(), String(process.pid));
    const pgid = readRunState(home, "run-shutdown")?.pgid ?? 0;
    await agent.stop();
    const { runtimeMs, ...last } = server.statuses.get("run-shutdown")?.at(-1) ?? {};
    assert.deepEqual(last, { status: "FAILED", exitCode: null, reason: "agent stopped" });
    assert.ok(typeof runtimeMs === "number" && runtimeMs > 0, `runtimeMs ${runtimeMs}`);
    assert.deepEqual(liveGroupMembers(pgid), []);
    assert.equal(existsSync(join(home, "agent.pid")), false);
    assert.equal(readRunState(home, "run-shutdown")?.reported, true);
  });
});

describe("lease watchdog", () => {
  test("looks often enough to stop a job well before the server counts its part lost, and at most once a second", () => {
    for (const leaseMs of [100, 1_000, 5_000, 20_000, 90_000, 3_600_000]) {
      const tick = watchdogTickMs(leaseMs);
      // The server counts a part lost a quarter of the lease (plus the kill grace) after the lease.
      assert.ok(tick <= leaseMs / 4, `lease ${leaseMs} ms: looks every ${tick} ms`);
      assert.ok(tick >= 20 && tick <= 1_000, `lease ${leaseMs} ms: looks every ${tick} ms`);
    }
    // The default lease (3 x 30 s offline): once a second, not four times.
    assert.equal(watchdogTickMs(90_000), 1_000);
  });

  test("starts with the agent's environment less its TLS settings (node would read the CA bundle at start, unused)", () => {
    const env = watchdogEnv({ PATH: "/usr/bin:/bin", NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt", TZ: "UTC" });
    assert.deepEqual(env, { PATH: "/usr/bin:/bin", TZ: "UTC" });
  });
});
