// The official client's launch across server replicas: its upload, registration, match and
// start calls each reach a different replica (as a round-robin balancer sends them), and the
// run still launches: uploads and registrations live in the shared database, not in one
// process. (PostgreSQL only: replicas need it.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { onPostgres } from "../packages/server/test/support/database.js";
import { packageZip, registration, runCall, s3ConfigAt, uploadPackageAt, wireAt } from "./support/fedml-wire.js";
import { type AgentProcess, createUser, startAgent } from "./support/processes.js";
import { type Replicas, startReplicas } from "./support/replicas.js";
import { ENDED_STATUSES } from "./support/runs.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("wire-replicas");
let replicas: Replicas | undefined;
let agent: AgentProcess | undefined;

after(async () => {
  await agent?.stop();
  await replicas?.stop();
  tmp.cleanup();
});

describe(
  "the official client's launch across replicas",
  { skip: onPostgres ? false : "replicas need PostgreSQL (FEDML_TEST_DATABASE_URL)" },
  () => {
    let key: string;
    before(async () => {
      process.env.FEDML_HOME = join(tmp.dir, "client-home");
      replicas = await startReplicas(tmp.dir, 2);
      key = await createUser({ url: replicas.servers[0].url, adminKey: replicas.adminKey }, "wired");
      agent = await startAgent(replicas.servers[1].url, key, join(tmp.dir, "agent"), ["--name", "r1-box"]);
    });

    test("upload on one replica, register on the other, match and start on alternating ones: FINISHED", async () => {
      const [r0, r1] = replicas!.servers.map((s) => s.url);
      const zip = packageZip('echo "from the package"\ncat data.txt\n', "", { "data.txt": "held in the database\n" });
      const fileUrl = await uploadPackageAt(r0, "roaming", zip);
      // The presigned GET the client computed against replica 0 is served by replica 1 too.
      const onR1 = fileUrl.replace(r0, r1);
      assert.deepEqual(Buffer.from(await (await fetch(onR1)).arrayBuffer()), zip);

      const registered = await wireAt(r1, "/api/v1/application/updateApplicationFromCli", registration("roaming", onR1, key));
      assert.equal(registered.code, "SUCCESS", registered.message);
      // Claimed through replica 1: gone on replica 0 as well.
      assert.equal((await fetch(fileUrl)).status, 404);
      const matched = await wireAt(r0, "/api/v1/application/runApplicationFromCli", runCall("roaming", key));
      assert.equal(matched.code, "SUCCESS", matched.message);
      assert.equal(matched.data.status, "LAUNCHED");
      const runId = matched.data.job_id as string;
      const started = await wireAt(
        r1,
        "/api/v1/application/runApplicationFromCli",
        runCall("roaming", key, { needConfirmation: false, jobId: runId }),
      );
      assert.equal(started.code, "SUCCESS", started.message);
      const status = await waitFor(
        `run ${runId} to end`,
        async () => {
          const { status } = await api.runStatus(null, runId, { serverUrl: r0, apiKey: key });
          return ENDED_STATUSES.includes(status ?? "") ? status : undefined;
        },
        30_000,
        100,
      );
      assert.equal(status, "FINISHED");
      const logs = await api.runLogs(runId, 1, 100, { needAllLogs: true, serverUrl: r1, apiKey: key });
      assert.deepEqual(logs.logLineList, ["from the package", "held in the database"]);
    });

    test("a multipart upload begun on one replica takes parts and completes on the other", async () => {
      const [r0, r1] = replicas!.servers.map((s) => s.url);
      const s3 = await s3ConfigAt(r0);
      const path = `/${s3.BUCKET_NAME}/multi%40roam`;
      const begun = await fetch(`${r0}${path}?uploads`, { method: "POST" });
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await begun.text())?.[1];
      assert.ok(uploadId);
      assert.equal((await fetch(`${r1}${path}?partNumber=2&uploadId=${uploadId}`, { method: "PUT", body: "world" })).status, 200);
      assert.equal(
        (await fetch(`${r0}${path}?partNumber=1&uploadId=${uploadId}`, { method: "PUT", body: "hello " })).status,
        200,
      );
      const done = await fetch(`${r1}${path}?uploadId=${uploadId}`, {
        method: "POST",
        body: "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>",
      });
      assert.equal(done.status, 200);
      assert.equal(await (await fetch(`${r0}${path}`)).text(), "hello world");
    });
  },
);
