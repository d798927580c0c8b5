// Workspaces every replica can serve: two server processes on one PostgreSQL; the workspace
// is uploaded through one and the agent, bound to the other only, fetches and runs it. An
// upload cut short on one replica resumes on the other. (PostgreSQL only: replicas need it.)
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { onPostgres } from "../packages/server/test/support/database.js";
import { packOrReuse } from "../packages/fedml/src/workspace/pack-cache.js";
import { uploadWorkspace } from "../packages/fedml/src/workspace/upload.js";
import { writeJob } from "./support/jobs.js";
import { repoRoot } from "./support/paths.js";
import { type AgentProcess, createUser, startAgent } from "./support/processes.js";
import { type Replicas, startReplicas } from "./support/replicas.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const MiB = 1024 * 1024;
const tmp = makeTempDir("ws-replicas");
let replicas: Replicas | undefined;
let agent: AgentProcess | undefined;

after(async () => {
  await agent?.stop();
  await replicas?.stop();
  tmp.cleanup();
});

describe(
  "workspaces across replicas",
  { skip: onPostgres ? false : "replicas need PostgreSQL (FEDML_TEST_DATABASE_URL)" },
  () => {
    let key: string;
    before(async () => {
      process.env.FEDML_HOME = join(tmp.dir, "client-home");
      replicas = await startReplicas(tmp.dir, 2);
      key = await createUser({ url: replicas.servers[0].url, adminKey: replicas.adminKey }, "roamer");
      // The agent knows replica 1 only.
      agent = await startAgent(replicas.servers[1].url, key, join(tmp.dir, "agent"), ["--name", "r1-box"]);
    });

    test("uploaded through replica 0, fetched by an agent of replica 1, resumed across replicas", async () => {
      const [r0, r1] = replicas!.servers;
      const yaml = writeJob(tmp.dir, "roam", "workspace: ws\njob: |\n  cat hello.txt\n  wc -c < big.bin\n", {
        "hello.txt": "from replica 0\n",
      });
      const ws = join(tmp.dir, "roam", "ws");
      writeFileSync(join(ws, "big.bin"), randomBytes(3 * MiB));
      const old = new Date(Date.now() - 60_000);
      for (const f of ["hello.txt", "big.bin"]) utimesSync(join(ws, f), old, old);

      // Cut the upload short on replica 0, finish it on replica 1.
      const archive = await packOrReuse(ws, process.env.FEDML_HOME as string, 100 * MiB);
      const stop = new AbortController();
      await assert.rejects(
        uploadWorkspace({ serverUrl: r0.url, apiKey: key }, archive, {
          signal: stop.signal,
          onProgress: (p) => {
            if (p.bytes > 2 * MiB) stop.abort();
          },
        }),
      );
      let previous = -1;
      await waitFor(
        "replica 0 to settle the cut upload",
        async () => {
          const res = await fetch(`${r1.url}/api/v1/workspaces/${archive.sha256}/upload`, {
            headers: { authorization: `Bearer ${key}` },
          });
          const { receivedBytes } = (await res.json()) as { receivedBytes: number };
          const settled = receivedBytes >= MiB && receivedBytes === previous;
          previous = receivedBytes;
          return settled;
        },
        10_000,
        250,
      );
      const resumed = await uploadWorkspace({ serverUrl: r1.url, apiKey: key }, archive);
      assert.ok(resumed.from >= MiB && resumed.sent === archive.size - resumed.from, JSON.stringify(resumed));

      const launched = await api.launchJob(yaml, { serverUrl: r0.url, apiKey: key });
      assert.equal(launched.resultCode, 0, launched.resultMsg);
      const lines: string[] = [];
      const status = await api.followRunLogs(launched.runId as string, (l) => lines.push(l), { serverUrl: r0.url, apiKey: key });
      assert.equal(status, "FINISHED", lines.join("\n"));
      assert.deepEqual(lines, ["from replica 0", String(3 * MiB)]);
    });

    test("inference through a replica without the device's tunnel is handed to the one holding it", async () => {
      const [r0, r1] = replicas!.servers;
      const conn = { serverUrl: r0.url, apiKey: key };
      const launched = await api.launchJob(join(repoRoot, "examples", "serve_model", "job.yaml"), conn);
      assert.equal(launched.resultCode, 0, launched.resultMsg);
      const endpointId = launched.innerId as string;
      await waitFor(
        "the endpoint READY",
        async () => (await api.endpointStatus(endpointId, conn)).status === "READY",
        60_000,
        200,
      );
      // The agent's tunnel goes to replica 1 only; replica 0 used to wait 5 s for it, then answer 503.
      for (const via of [r0, r1]) {
        const predicted = await fetch(`${via.url}/inference/${endpointId}/predict`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({
            inputs: [
              [0, 0],
              [2, 0],
            ],
          }),
        });
        assert.equal(predicted.status, 200, `through ${via.url}: ${await predicted.clone().text()}`);
        assert.deepEqual(((await predicted.json()) as { outputs: number[] }).outputs, [0.562177, 0.962673]);
      }
      const probe = await fetch(`${r0.url}/inference/${endpointId}/some/path?x=1`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(probe.status, 200);
      assert.equal(((await probe.json()) as { path: string }).path, "/some/path?x=1");
      // The hand-over carries the caller's key: a wrong one is refused on either side.
      const wrongKey = await fetch(`${r0.url}/inference/${endpointId}/predict`, {
        method: "POST",
        body: "{}",
        headers: { authorization: "Bearer nope" },
      });
      assert.equal(wrongKey.status, 401);
      await api.runStop(launched.runId as string, conn);
    });
  },
);
