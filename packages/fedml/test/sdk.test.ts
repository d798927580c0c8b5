// The SDK in-process against the embedded default (a real local server and agent under a
// temp FEDML_HOME), for what the SDK itself promises.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, readConfig, stopLocal } from "../src/index.js";
import type { WorkspaceProgress } from "../src/workspace/progress.js";
import { makeTempDir } from "./support/cli.js";

const tmp = makeTempDir("sdk");
const home = join(tmp.dir, "home");

before(() => {
  process.env.FEDML_HOME = home;
  process.env.FEDML_SERVER_URL = "";
  process.env.FEDML_API_KEY = "";
});

after(async () => {
  await stopLocal(home);
  tmp.cleanup();
});

function writeJob(name: string, yaml: string, files: Record<string, string> = {}): string {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, "ws"), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, "ws", file), text);
  writeFileSync(join(dir, "job.yaml"), yaml);
  return join(dir, "job.yaml");
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function followAll(runId: string): Promise<{ lines: string[]; status: string }> {
  const lines: string[] = [];
  const status = await api.followRunLogs(runId, (line) => lines.push(line));
  return { lines, status };
}

describe("SDK on the embedded default", () => {
  test("followRunLogs streams a run's lines and answers its final status", async () => {
    const launched = await api.launchJob(writeJob("follow", "job: |\n  echo one\n  echo two\n"));
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    assert.ok(launched.runId);
    assert.deepEqual(await followAll(launched.runId), { lines: ["one", "two"], status: "FINISHED" });
  });

  test("a second launch of the same workspace reuses the stored blob", async () => {
    const path = writeJob("twice", "workspace: ws\njob: cat data.txt\n", { "data.txt": "same bytes\n" });
    const uploaded = (events: WorkspaceProgress[]) =>
      events.flatMap((e) => (e.kind === "uploaded" ? [{ present: e.present, sent: e.sent }] : []));
    const firstEvents: WorkspaceProgress[] = [];
    const first = await api.launchJob(path, { onProgress: (e) => firstEvents.push(e) });
    assert.equal(first.resultCode, 0, first.resultMsg);
    assert.equal(uploaded(firstEvents)[0]?.present, false);
    await followAll(first.runId!);
    // The embedded server holds the blob for this user: not one byte is sent again.
    const secondEvents: WorkspaceProgress[] = [];
    const second = await api.launchJob(path, { onProgress: (e) => secondEvents.push(e) });
    assert.equal(second.resultCode, 0, second.resultMsg);
    assert.deepEqual(uploaded(secondEvents), [{ present: true, sent: 0 }]);
    assert.deepEqual(await followAll(second.runId!), { lines: ["same bytes"], status: "FINISHED" });
  });

  test("runStatus refuses an ambiguous name with code 3; runList finds both", async () => {
    const path = writeJob("dupes", "job_name: twin\njob: echo hi\n");
    const a = await api.launchJob(path);
    const b = await api.launchJob(path);
    await followAll(a.runId!);
    await followAll(b.runId!);
    assert.equal((await api.runList("twin")).runList.length, 2);
    await assert.rejects(api.runStatus("twin", null), { resultCode: 3, message: "2 runs are named twin: give the run id" });
    assert.equal((await api.runStatus("twin", a.runId)).status, "FINISHED");
    await assert.rejects(api.runStatus(null, "987654"), { resultCode: 25 });
  });

  test("runStop stops a running job, which ends KILLED", async () => {
    const launched = await api.launchJob(writeJob("sleeper", "job: |\n  echo up\n  sleep 30\n"));
    const seen: string[] = [];
    const ended = api.followRunLogs(launched.runId!, (line) => {
      seen.push(line);
      if (line === "up") void api.runStop(launched.runId!);
    });
    assert.equal(await ended, "KILLED");
    assert.deepEqual(seen, ["up"]);
  });

  test("launch failures come back as a LaunchResult, never thrown", async () => {
    const wrongKey = await api.launchJob(writeJob("wrong-key", "job: echo hi\n"), { apiKey: "fedml_not-a-key" });
    assert.equal(wrongKey.runId, null);
    assert.equal(wrongKey.resultCode, 20);
    assert.doesNotMatch(wrongKey.resultMsg, /\n/);

    const url = `http://127.0.0.1:${await closedPort()}`;
    const down = await api.launchJob(writeJob("down", "job: echo hi\n"), { serverUrl: url, apiKey: "k" });
    assert.equal(down.resultCode, 10);
    assert.match(down.resultMsg, /^cannot reach the FedML server at /);
  });

  test("fedmlLogin answers a code for a bad key and saves a good one", async () => {
    const bad = await api.fedmlLogin("fedml_not-a-key");
    assert.notEqual(bad, 0);
    assert.deepEqual(readConfig(home), { serverUrl: null, apiKey: null });

    const { apiKey, user } = await api.userCreate("dave");
    assert.ok((await api.userList()).userList.some((u) => u.name === "dave" && u.userId === user.userId));
    assert.equal(await api.fedmlLogin(apiKey), 0);
    assert.deepEqual(readConfig(home), { serverUrl: null, apiKey });
    // Dave now runs on the shared local device.
    const launched = await api.launchJob(writeJob("dave", "job: echo as dave\n"));
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    assert.deepEqual(await followAll(launched.runId!), { lines: ["as dave"], status: "FINISHED" });
    assert.equal(api.fedmlLogout(), true);
  });
});
