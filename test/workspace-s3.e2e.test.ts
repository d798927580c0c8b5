// Workspaces in an S3-compatible store: a real S3-protocol server (s3rver) on loopback.
// SQLite: one server uploads, the agent downloads and runs it, eviction deletes the objects,
// a wrong secret stops the server at start with one line. PostgreSQL: two replicas share the
// bucket; the workspace goes up through one and the agent of the other runs it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { onPostgres } from "../packages/server/test/support/database.js";
import { writeJob } from "./support/jobs.js";
import { serverBin } from "./support/paths.js";
import { type AgentProcess, type ServerWithAgent, createUser, startAgent, startServerWithAgent } from "./support/processes.js";
import { type Replicas, startReplicas } from "./support/replicas.js";
import { type S3Store, startS3 } from "./support/s3.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("ws-s3");
let s3: S3Store | undefined;

before(async () => {
  s3 = await startS3(tmp.dir);
});

after(async () => {
  await s3?.stop();
  tmp.cleanup();
});

/** Every log file the servers under `dir` wrote, together. */
function serverLogs(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^server-\d+\.log$/.test(e.name)) out.push(readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out.join("\n");
}

async function runWorkspaceJob(dir: string, name: string, conn: { serverUrl: string; apiKey: string }, text: string) {
  const yaml = writeJob(dir, name, "workspace: ws\njob: |\n  cat hello.txt\n  wc -c < noise.bin\n", { "hello.txt": `${text}\n` });
  // Incompressible, so the archive is as large as its bytes.
  writeFileSync(join(dir, name, "ws", "noise.bin"), randomBytes(600 * 1024));
  const launched = await api.launchJob(yaml, conn);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  const lines: string[] = [];
  const status = await api.followRunLogs(launched.runId as string, (l) => lines.push(l), conn);
  assert.equal(status, "FINISHED", lines.join("\n"));
  assert.deepEqual(lines, [text, String(600 * 1024)]);
}

describe("workspaces in an S3 store, one server", { skip: onPostgres ? "the replicas test covers PostgreSQL" : false }, () => {
  let stack: ServerWithAgent;
  before(async () => {
    // 1 MiB in all: the second workspace evicts the first once its run has ended.
    stack = await startServerWithAgent(join(tmp.dir, "one"), {
      users: ["ada"],
      serverArgs: [...s3!.serverArgs(), "--workspace-store-mb", "1"],
    });
  });
  after(async () => {
    await stack?.agent.stop();
    await stack?.server.stop();
  });

  test("the agent downloads and runs a workspace kept in the bucket; eviction deletes its object", async () => {
    const conn = stack.callers[0];
    await runWorkspaceJob(tmp.dir, "first", conn, "kept in s3");
    const firstKeys = s3!.objectKeys();
    assert.equal(firstKeys.length, 1, `one object per workspace: ${firstKeys.join(", ")}`);
    const db = join(stack.server.home, "server", "fedml.db");
    assert.ok(!readFileSync(db).includes(Buffer.from("kept in s3")), "no workspace bytes in the database");

    await runWorkspaceJob(tmp.dir, "second", conn, "evicts the first");
    await waitFor("the evicted workspace's object deleted", async () => {
      const keys = s3!.objectKeys();
      return keys.length === 1 && keys[0] !== firstKeys[0];
    });
    assert.ok(!serverLogs(join(tmp.dir, "one")).includes(s3!.secret), "the secret is in a server log");
  });

  test("a wrong secret: the server refuses to start with one line naming the problem (exit 2), the secret nowhere", async () => {
    const wrong = `${s3!.secret.slice(0, 10)}-wrong-${randomBytes(8).toString("hex")}`;
    const child = spawn(
      process.execPath,
      [serverBin, "--home", join(tmp.dir, "wrong"), "--port", "0", ...s3!.serverArgs(wrong)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    assert.equal(code, 2, out);
    const lines = out.trim().split("\n");
    assert.equal(lines.length, 1, out);
    assert.match(
      lines[0],
      /^fedml-server: workspace store S3 bucket fedml-workspaces at http:\/\/127\.0\.0\.1:\d+: the secret access key of AKTEST\w+ was not accepted \(SignatureDoesNotMatch\)$/,
    );
    assert.ok(!out.includes(wrong) && !out.includes(s3!.secret), out);
  });
});

describe(
  "workspaces in an S3 store shared by two replicas",
  { skip: onPostgres ? false : "replicas need PostgreSQL (FEDML_TEST_DATABASE_URL)" },
  () => {
    let replicas: Replicas | undefined;
    let agent: AgentProcess | undefined;
    let key: string;
    before(async () => {
      process.env.FEDML_HOME = join(tmp.dir, "client-home");
      replicas = await startReplicas(join(tmp.dir, "replicas"), 2, s3!.serverArgs());
      key = await createUser({ url: replicas.servers[0].url, adminKey: replicas.adminKey }, "roamer");
      // The agent knows replica 1 only.
      agent = await startAgent(replicas.servers[1].url, key, join(tmp.dir, "agent"), ["--name", "r1-box"]);
    });
    after(async () => {
      await agent?.stop();
      await replicas?.stop();
    });

    test("uploaded through replica 0 into the bucket, run by the agent of replica 1", async () => {
      await runWorkspaceJob(tmp.dir, "roam", { serverUrl: replicas!.servers[0].url, apiKey: key }, "through the bucket");
      assert.equal(s3!.objectKeys().length, 1);
      assert.ok(!serverLogs(join(tmp.dir, "replicas")).includes(s3!.secret), "the secret is in a server log");
    });
  },
);
