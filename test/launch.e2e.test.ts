// End to end: a real server process on loopback, real agent processes, real bash/python3
// jobs, driven through the SDK exactly as a user would.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import type { WorkspaceProgress } from "../packages/fedml/src/workspace/progress.js";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, isAlive, startServerWithAgent } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";
import { waitForRunEnd } from "./support/runs.js";

const tmp = makeTempDir("e2e");
let server: ServerProcess;

let agent: AgentProcess;
let alice: { serverUrl: string; apiKey: string };
let bob: { serverUrl: string; apiKey: string };

async function allLogLines(runId: string, opts: { serverUrl: string; apiKey: string }): Promise<string[]> {
  const result = await api.runLogs(runId, 1, 100, { needAllLogs: true, ...opts });
  return result.logLineList;
}

// The agent holds a progress report this long for company (a short job's final report):
// long enough that the sharing cannot depend on how loaded the machine is.
const REPORT_HOLD_MS = 1_000;

before(async () => {
  process.env.FEDML_REPORT_HOLD_MS = String(REPORT_HOLD_MS);
  ({
    server,
    agent,
    callers: [alice, bob],
  } = await startServerWithAgent(tmp.dir, {
    users: ["alice", "bob"],
    serverArgs: ["--stop-grace-ms", "1500"],
    agentHome: "agent-a",
    agentArgs: ["--name", "box-a"],
  }));
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("launch on a real server and agent", () => {
  test("a job runs to FINISHED and its log lines come back exactly, in order", async () => {
    const yaml = join(tmp.dir, "hello");
    const path = writeJob(
      tmp.dir,
      "hello",
      [
        "workspace: ws",
        "bootstrap: |",
        "  echo bootstrap ok",
        "job: |",
        "  for i in 1 2 3; do echo line $i; done",
        '  echo "run=$FEDML_CURRENT_RUN_ID edge=$FEDML_CURRENT_EDGE_ID rank=$FEDML_CLIENT_RANK nodes=$FEDML_NUM_NODES"',
        '  echo "dataset=$FEDML_ENV_DATA_ARGS_DATASET_NAME"',
        "  test ! -e secret.txt && echo ignored file stayed home",
        "  python3 main.py",
        "data_args:",
        "  dataset_name: mnist",
        "",
      ].join("\n"),
      { "main.py": 'print("hello from python")\n', "secret.txt": "no\n", ".gitignore": "secret.txt\n" },
    );
    assert.ok(yaml);
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    assert.ok(launched.runId);
    assert.ok(launched.projectId);
    assert.equal(launched.innerId, null);
    const run = await waitForRunEnd(launched.runId, alice);
    assert.equal(run.status, "FINISHED");
    assert.match(run.runUrl, new RegExp(`/runs/${launched.runId}$`));
    assert.deepEqual(await allLogLines(launched.runId, alice), [
      "bootstrap ok",
      "line 1",
      "line 2",
      "line 3",
      `run=${launched.runId} edge=${agent.deviceId} rank=1 nodes=1`,
      "dataset=mnist",
      "ignored file stayed home",
      "hello from python",
    ]);
  });

  test("a second launch of the same workspace uploads nothing", async () => {
    const path = writeJob(tmp.dir, "twice", "workspace: ws\njob: cat data.txt\n", { "data.txt": "same bytes\n" });
    const uploads = (events: WorkspaceProgress[]) => events.flatMap((e) => (e.kind === "uploaded" ? [e] : []));
    const firstEvents: WorkspaceProgress[] = [];
    const first = await api.launchJob(path, { ...alice, onProgress: (e) => firstEvents.push(e) });
    assert.equal(first.resultCode, 0, first.resultMsg);
    assert.deepEqual(
      uploads(firstEvents).map((e) => e.present),
      [false],
    );
    await waitForRunEnd(first.runId!, alice);
    // The server says it holds the blob for this user: not one byte is sent, nothing is written.
    const secondEvents: WorkspaceProgress[] = [];
    const second = await api.launchJob(path, { ...alice, onProgress: (e) => secondEvents.push(e) });
    assert.equal(second.resultCode, 0, second.resultMsg);
    assert.deepEqual(
      uploads(secondEvents).map((e) => ({ present: e.present, sent: e.sent })),
      [{ present: true, sent: 0 }],
    );
    await waitForRunEnd(second.runId!, alice);
    assert.deepEqual(await allLogLines(second.runId!, alice), ["same bytes"]);
  });

  test("a failing job ends FAILED with its exit code", async () => {
    const path = writeJob(tmp.dir, "fails", "job: |\n  echo about to fail\n  exit 3\n");
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const run = await waitForRunEnd(launched.runId!, alice);
    assert.equal(run.status, "FAILED");
    assert.equal(run.exitCode, 3);
    assert.deepEqual(await allLogLines(launched.runId!, alice), ["about to fail"]);
  });

  test("short jobs launched together all end through the agent's batched reports; plain commands need no shell", async () => {
    const jobs: [yaml: string, status: string, exitCode: number, lines: string[] | null][] = [
      ...Array.from({ length: 8 }, (): [string, string, number, null] => ['job: "true"\n', "FINISHED", 0, null]),
      ["job: /bin/echo plain words\n", "FINISHED", 0, ["plain words"]],
      ['job: "false"\n', "FAILED", 1, []],
      ['job: echo "run $FEDML_CURRENT_RUN_ID"\n', "FINISHED", 0, null],
      ["job: no-such-program-here\n", "FAILED", 127, null],
    ];
    const launched = await Promise.all(
      jobs.map(async ([yaml], i) => {
        const result = await api.launchJob(writeJob(tmp.dir, `short-${i}`, yaml), alice);
        // Past the agent's job slots a run waits in the queue (code 5).
        assert.ok(result.resultCode === 0 || result.resultCode === 5, result.resultMsg);
        return result.runId as string;
      }),
    );
    for (const [i, runId] of launched.entries()) {
      const [, status, exitCode, lines] = jobs[i];
      const run = await waitForRunEnd(runId, alice);
      assert.equal(run.status, status, `${jobs[i][0]}: ${run.status}`);
      assert.equal(run.exitCode, exitCode, jobs[i][0]);
      if (lines) assert.deepEqual(await allLogLines(runId, alice), lines);
    }
    assert.deepEqual(await allLogLines(launched[10], alice), [`run ${launched[10]}`]);
    // bash said what was missing, as it always did for a command it cannot find.
    assert.match((await allLogLines(launched[11], alice)).join("\n"), /no-such-program-here: command not found/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const requests = (route: string) =>
      [...metrics.matchAll(/^fedml_http_request_duration_seconds_count\{([^}]*)\} (\d+)$/gm)]
        .filter(([, labels]) => labels.includes(`route="${route}"`))
        .reduce((sum, [, , n]) => sum + Number(n), 0);
    assert.ok(requests("/api/v1/agent/reports") > 0, "the agent sends its reports in batches");
    assert.equal(requests("/api/v1/agent/runs/:id/status"), 0, "and never one by one to this server");
  });

  test("a short job's RUNNING and final report reach the server in one request", async () => {
    const reportRequests = async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      return [...metrics.matchAll(/^fedml_http_request_duration_seconds_count\{([^}]*)\} (\d+)$/gm)]
        .filter(([, labels]) => labels.includes('route="/api/v1/agent/reports"'))
        .reduce((sum, [, , n]) => sum + Number(n), 0);
    };
    const before = await reportRequests();
    const path = writeJob(tmp.dir, "one-request", 'job: "true"\n');
    for (let i = 0; i < 3; i++) {
      const launched = await api.launchJob(path, alice);
      assert.equal(launched.resultCode, 0, launched.resultMsg);
      const run = await waitForRunEnd(launched.runId as string, alice);
      assert.equal(run.status, "FINISHED");
      assert.ok(run.startedTime, "RUNNING was applied (the run has a start time)");
    }
    assert.equal((await reportRequests()) - before, 3, "one report request per job");
  });

  test("stop ends a running job KILLED and leaves no process of it alive", async () => {
    const pidFile = join(tmp.dir, "stop-pids");
    const path = writeJob(
      tmp.dir,
      "stoppable",
      [
        "job: |",
        '  echo $$ >> "$FEDML_ENV_PIDFILE"',
        '  sleep 1000 & echo $! >> "$FEDML_ENV_PIDFILE"',
        "  bash -c \"trap '' TERM; sleep 1000\" &",
        '  echo $! >> "$FEDML_ENV_PIDFILE"',
        "  echo started",
        "  wait",
        `pidfile: ${pidFile}`,
        "",
      ].join("\n"),
    );
    const launched = await api.launchJob(path, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const runId = launched.runId!;
    await waitFor("the job to start", async () => (await allLogLines(runId, alice)).includes("started"));
    const pids = readFileSync(pidFile, "utf8").trim().split("\n").map(Number);
    assert.equal(pids.length, 3);
    assert.ok(pids.every(isAlive));
    assert.equal(await api.runStop(runId, alice), true);
    const run = await waitForRunEnd(runId, alice);
    assert.equal(run.status, "KILLED");
    await waitFor("every process of the job to be gone", () => pids.every((p) => !isAlive(p)), 5_000);
  });

  test("2,500 lines read back through runLogs with several page sizes", async () => {
    const path = writeJob(tmp.dir, "many", 'job: |\n  for i in $(seq 1 2500); do echo "row $i"; done\n');
    const launched = await api.launchJob(path, alice);
    const runId = launched.runId!;
    const run = await waitForRunEnd(runId, alice);
    assert.equal(run.status, "FINISHED");
    const expected = Array.from({ length: 2500 }, (_, i) => `row ${i + 1}`);
    for (const size of [7, 100, 999, 2500, 4000]) {
      const got: string[] = [];
      const pages = Math.ceil(2500 / size);
      for (let page = 1; page <= pages; page++) {
        const result = await api.runLogs(runId, page, size, alice);
        assert.equal(result.runStatus, "FINISHED");
        assert.equal(result.totalLogLines, 2500);
        assert.equal(result.totalLogPages, pages);
        assert.equal(result.runLogs?.currentPage, page);
        got.push(...result.logLineList);
      }
      assert.deepEqual(got, expected, `page size ${size}`);
      const past = await api.runLogs(runId, pages + 1, size, alice);
      assert.deepEqual(past.logLineList, []);
    }
    const all = await api.runLogs(runId, 1, 10, { needAllLogs: true, ...alice });
    assert.deepEqual(all.logLineList, expected);
    assert.equal(all.totalLogLines, 2500);
    assert.equal(all.totalLogPages, 250);
    assert.deepEqual(all.runLogs?.logLines, expected.slice(0, 10));
  });

  test("bad input gets a one-line error with the right code and changes nothing", async () => {
    const countRuns = async () => (await api.runList(null, alice)).runList.length;
    const before = await countRuns();

    const good = writeJob(tmp.dir, "good", "job: echo hi\n");
    const wrongKey = await api.launchJob(good, { serverUrl: server.url, apiKey: "fedml_not-a-real-key" });
    assert.equal(wrongKey.resultCode, 20);
    assert.equal(wrongKey.runId, null);
    assert.match(wrongKey.resultMsg, /API key/);
    assert.doesNotMatch(wrongKey.resultMsg, /\n/);

    const malformed = writeJob(tmp.dir, "malformed", "job: echo hi\ncomputing:\n  minimum_num_gpus: [unclosed\n");
    const bad = await api.launchJob(malformed, alice);
    assert.equal(bad.resultCode, 17);
    assert.match(bad.resultMsg, /job\.yaml:\d+/);
    assert.doesNotMatch(bad.resultMsg, /\n/);

    const badValue = writeJob(tmp.dir, "bad-value", "job: echo hi\ncomputing:\n  minimum_num_gpus: two\n");
    const badValueResult = await api.launchJob(badValue, alice);
    assert.equal(badValueResult.resultCode, 17);
    assert.match(badValueResult.resultMsg, /job\.yaml:3.*minimum_num_gpus/);

    const noWorkspace = writeJob(tmp.dir, "no-ws", "workspace: does-not-exist\njob: echo hi\n");
    const missing = await api.launchJob(noWorkspace, alice);
    assert.equal(missing.resultCode, 11);
    assert.match(missing.resultMsg, /does-not-exist/);

    const noYaml = await api.launchJob(join(tmp.dir, "nope.yaml"), alice);
    assert.equal(noYaml.resultCode, 31);

    await assert.rejects(api.runStatus(null, "999999", alice), (err: { resultCode?: number; message: string }) => {
      assert.equal(err.resultCode, 25);
      assert.match(err.message, /999999/);
      return true;
    });
    await assert.rejects(api.runLogs("999999", 1, 10, alice), { resultCode: 25 });
    await assert.rejects(api.runStop("999999", alice), { resultCode: 25 });

    assert.equal(await countRuns(), before);
  });

  test("a second user can neither see nor stop the first user's run", async () => {
    const path = writeJob(tmp.dir, "private", "job: |\n  echo mine\n  sleep 30\n");
    const launched = await api.launchJob(path, alice);
    const runId = launched.runId!;
    await waitFor("RUNNING", async () => (await api.runStatus(null, runId, alice)).status === "RUNNING");
    assert.deepEqual((await api.runList(null, { runId, ...bob })).runList, []);
    await assert.rejects(api.runStatus(null, runId, bob), { resultCode: 25 });
    await assert.rejects(api.runLogs(runId, 1, 10, bob), { resultCode: 25 });
    await assert.rejects(api.runStop(runId, bob), { resultCode: 25 });
    assert.equal((await api.runStatus(null, runId, alice)).status, "RUNNING");
    assert.equal((await api.deviceList(bob)).deviceList.length, 0);
    assert.equal(await api.runStop(runId, alice), true);
    assert.equal((await waitForRunEnd(runId, alice)).status, "KILLED");
  });

  test("an agent that restarts does not leave its runs RUNNING", async () => {
    const pidFile = join(tmp.dir, "restart-pids");
    const path = writeJob(
      tmp.dir,
      "orphan",
      `job: |\n  sleep 1000 &\n  echo $! > "$FEDML_ENV_PIDFILE"\n  echo up\n  wait\npidfile: ${pidFile}\n`,
    );
    const launched = await api.launchJob(path, alice);
    const runId = launched.runId!;
    await waitFor("the job to start", async () => (await allLogLines(runId, alice)).includes("up"));
    const sleeper = Number(readFileSync(pidFile, "utf8").trim());
    agent = await agent.restart();
    const run = await waitForRunEnd(runId, alice);
    assert.equal(run.status, "FAILED");
    assert.match(run.reason ?? "", /restart/);
    await waitFor("the orphaned job process to be gone", () => !isAlive(sleeper), 5_000);
  });
});
