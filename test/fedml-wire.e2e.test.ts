// Conformance of the official FedML client's wire protocol, written from the reference
// (requests shaped as that client sends them), against a real server and agent.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, createUser, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("wire");
let server: ServerProcess;
let agent: AgentProcess;
let alice: { serverUrl: string; apiKey: string };
let bob: { serverUrl: string; apiKey: string };

interface Envelope {
  code: string;
  message: string;
  // biome-ignore lint/suspicious/noExplicitAny: the envelope's data is whatever each call answers
  data: any;
}

async function wire(path: string, body: unknown, raw = false): Promise<Envelope> {
  const res = await fetch(`${server.url}/fedmlOpsServer${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path} answered HTTP ${res.status}`);
  const envelope = (await res.json()) as Envelope;
  assert.deepEqual(Object.keys(envelope).slice(0, 3).sort(), ["code", "data", "message"]);
  assert.ok(envelope.code === "SUCCESS" || envelope.code === "FAILURE");
  return envelope;
}

function assertFailure(envelope: Envelope, pattern: RegExp) {
  assert.equal(envelope.code, "FAILURE", JSON.stringify(envelope));
  assert.equal(envelope.data, null);
  assert.match(envelope.message, pattern);
}

async function jobOf(runId: string, apiKey = alice.apiKey) {
  const answer = await wire("/api/v1/platform/queryJobList", {
    platformType: "falcon",
    jobName: "",
    jobId: runId,
    projectName: "",
    userApiKey: apiKey,
  });
  assert.equal(answer.code, "SUCCESS", answer.message);
  assert.equal(answer.data.jobList.length, 1);
  return answer.data.jobList[0];
}

async function launch(name: string, job: string[]): Promise<string> {
  const path = writeJob(
    tmp.dir,
    name,
    ["workspace: ws", `job_name: ${name}`, "job: |", ...job.map((l) => `  ${l}`), ""].join("\n"),
  );
  const launched = await api.launchJob(path, alice);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  assert.ok(launched.runId);
  return launched.runId;
}

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  server = await startServer(join(tmp.dir, "server-home"), { extraArgs: ["--stop-grace-ms", "1500"] });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  bob = { serverUrl: server.url, apiKey: await createUser(server, "bob") };
  agent = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent-a"), ["--name", "box-a"]);
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("the official client's wire protocol", () => {
  test("heartBeat: data true for a valid key, FAILURE otherwise", async () => {
    assert.deepEqual(await wire("/api/v1/cli/heartBeat", { apiKey: alice.apiKey }), {
      code: "SUCCESS",
      message: "Succeeded",
      data: true,
    });
    const wrong = await wire("/api/v1/cli/heartBeat", { apiKey: "not-a-key" });
    assert.equal(wrong.code, "FAILURE");
    assert.equal(wrong.data, false);
    assert.equal((await wire("/api/v1/cli/heartBeat", {})).code, "FAILURE");
  });

  test("a run shows in queryJobList, pages its logs in both field sets, and runs to FINISHED", async () => {
    const runId = await launch("wire-hello", ["for i in 1 2 3 4 5; do echo line $i; done"]);
    const ended = await waitFor(
      `run ${runId} to end`,
      async () => {
        const job = await jobOf(runId);
        return ["FINISHED", "FAILED", "KILLED"].includes(job.status) ? job : undefined;
      },
      30_000,
      100,
    );
    assert.equal(ended.status, "FINISHED");
    assert.equal(ended.id, runId);
    assert.equal(ended.name, "wire-hello");
    assert.match(ended.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(ended.endTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(typeof ended.spendTime, "number");
    assert.equal(typeof ended.cost, "number");
    assert.match(ended.jobUrl, new RegExp(`/runs/${runId}$`));
    assert.equal(ended.gpuMachines.length, 1);
    assert.equal(ended.gpuMachines[0].deviceId, agent.deviceId);
    assert.ok([0, 1, 2, 3].includes(ended.gpuMachines[0].brand));

    // By name too, as run_list sends it.
    const byName = await wire("/api/v1/platform/queryJobList", {
      platformType: "falcon",
      jobName: "wire-hello",
      jobId: "",
      projectName: "",
      userApiKey: alice.apiKey,
    });
    assert.deepEqual(
      byName.data.jobList.map((j: { id: string }) => j.id),
      [runId],
    );

    const page = await wire("/api/v1/log/getLogsFromCli", {
      apiKey: alice.apiKey,
      pageNum: 2,
      pageSize: 2,
      runId,
      timeZone: "Etc/UTC",
    });
    assert.equal(page.code, "SUCCESS", page.message);
    assert.deepEqual(page.data.logList, ["line 3", "line 4"]);
    assert.deepEqual(page.data.logs, page.data.logList);
    assert.equal(page.data.totalSize, 5);
    assert.equal(page.data.total_num, 5);
    assert.equal(page.data.totalPages, 3);
    assert.equal(page.data.total_pages, 3);
    assert.equal(page.data.pageNum, 2);
    assert.equal(page.data.current_page, 2);
    assert.match(page.data.log_full_url, new RegExp(`/runs/${runId}/logs/full$`));
    assert.equal(page.data.devices.length, 1);
    assert.equal(page.data.devices[0].id, agent.deviceId);
    assert.match(page.data.devices[0].log_url, /deviceId=/);

    // Older clients add edgeId "-1" and send the run id as a number.
    const older = await wire("/api/v1/log/getLogsFromCli", {
      apiKey: alice.apiKey,
      edgeId: "-1",
      pageNum: 1,
      pageSize: 1000,
      runId: Number(runId),
      timeZone: "Etc/UTC",
    });
    assert.deepEqual(older.data.logs, ["line 1", "line 2", "line 3", "line 4", "line 5"]);
    assert.equal(older.data.total_pages, 1);
  });

  test("stopApplicationFromCli stops a running run; the native API sees it KILLED", async () => {
    const runId = await launch("wire-sleeper", ["echo started", "sleep 60"]);
    await waitFor(`run ${runId} to run`, async () => (await jobOf(runId)).status === "RUNNING", 30_000, 100);
    const stopped = await wire("/api/v1/application/stopApplicationFromCli", {
      platformType: "falcon",
      jobId: runId,
      apiKey: alice.apiKey,
    });
    assert.equal(stopped.code, "SUCCESS", stopped.message);
    const job = await waitFor(
      `run ${runId} to be killed`,
      async () => {
        const j = await jobOf(runId);
        return j.status === "KILLED" ? j : undefined;
      },
      30_000,
      100,
    );
    assert.equal(job.status, "KILLED");
    const { status } = await api.runStatus(null, runId, alice);
    assert.equal(status, "KILLED");
  });

  test("another user's run is unknown, exactly like a missing one", async () => {
    const runId = await launch("wire-private", ["echo mine"]);
    const theirs = await wire("/api/v1/platform/queryJobList", {
      platformType: "falcon",
      jobName: "",
      jobId: runId,
      projectName: "",
      userApiKey: bob.apiKey,
    });
    const missing = await wire("/api/v1/platform/queryJobList", {
      platformType: "falcon",
      jobName: "",
      jobId: "999999",
      projectName: "",
      userApiKey: bob.apiKey,
    });
    assertFailure(theirs, /not found/);
    assertFailure(missing, /not found/);
    assert.equal(theirs.message.replace(runId, "X"), missing.message.replace("999999", "X"));
    assertFailure(await wire("/api/v1/log/getLogsFromCli", { apiKey: bob.apiKey, runId, pageNum: 1, pageSize: 10 }), /not found/);
    assertFailure(
      await wire("/api/v1/application/stopApplicationFromCli", { platformType: "falcon", jobId: runId, apiKey: bob.apiKey }),
      /not found/,
    );
    // Bob's empty list is a FAILURE, never an empty jobList (the client crashes on it).
    assertFailure(
      await wire("/api/v1/platform/queryJobList", {
        platformType: "falcon",
        jobName: "",
        jobId: "",
        projectName: "",
        userApiKey: bob.apiKey,
      }),
      /not found/,
    );
  });

  test("bad input to each endpoint is a FAILURE envelope with a message, never a 500", async () => {
    const calls = [
      "/api/v1/cli/heartBeat",
      "/api/v1/platform/queryJobList",
      "/api/v1/log/getLogsFromCli",
      "/api/v1/application/stopApplicationFromCli",
      "/api/v1/no/such/call",
    ];
    for (const path of calls) {
      for (const body of ["{not json", "[1,2]", "null", '"text"']) {
        const answer = await wire(path, body, true);
        assert.equal(answer.code, "FAILURE", `${path} ${body}: ${JSON.stringify(answer)}`);
        assert.ok(answer.message.length > 0);
      }
    }
    assertFailure(await wire("/api/v1/platform/queryJobList", { jobId: "1" }), /userApiKey/);
    assertFailure(await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey }), /runId is missing/);
    assertFailure(
      await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey, runId: "1", pageNum: 0, pageSize: 10 }),
      /pageNum must be/,
    );
    assertFailure(
      await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey, runId: "1", pageNum: 1, pageSize: "lots" }),
      /pageSize must be/,
    );
    assertFailure(await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey, runId: { a: 1 } }), /runId must be a string/);
    assertFailure(await wire("/api/v1/application/stopApplicationFromCli", { apiKey: alice.apiKey }), /jobId is missing/);
    assertFailure(await wire("/api/v1/application/stopApplicationFromCli", { apiKey: alice.apiKey, jobId: "abc" }), /not found/);
    assertFailure(
      await wire("/api/v1/platform/queryJobList", { userApiKey: alice.apiKey, jobId: "x".repeat(100) }),
      /jobId is longer/,
    );
  });
});
