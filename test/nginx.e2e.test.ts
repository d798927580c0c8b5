// nginx (Debian's package) in front of two replicas on one PostgreSQL, configured as
// docs/replicas.md says: the client and the agent know only nginx's URL; launches, log
// following and the agent's long-poll go through it, also after one replica is killed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { api } from "fedml";
import { onPostgres } from "../packages/server/test/support/database.js";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, createUser, startAgent } from "./support/processes.js";
import { type Nginx, type Replicas, nginxInstalled, startNginx, startReplicas } from "./support/replicas.js";
import { makeTempDir } from "./support/tmp.js";

const skip = !onPostgres
  ? "replicas need PostgreSQL: FEDML_TEST_DATABASE_URL is unset"
  : !nginxInstalled()
    ? "nginx is not installed (apt-get install -y nginx)"
    : false;

const tmp = makeTempDir("nginx");
let replicas: Replicas | undefined;
let nginx: Nginx | undefined;
let agent: AgentProcess | undefined;

after(async () => {
  await agent?.stop();
  await nginx?.stop();
  await replicas?.stop();
  tmp.cleanup();
});

test("a launch through nginx in front of two replicas, before and after one replica is killed", { skip }, async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  replicas = await startReplicas(tmp.dir, 2);
  nginx = await startNginx(
    join(tmp.dir, "nginx"),
    replicas.servers.map((s) => `127.0.0.1:${s.port}`),
  );
  const apiKey = await createUser({ url: nginx.url, adminKey: replicas.adminKey }, "nina");
  const opts = { serverUrl: nginx.url, apiKey };
  agent = await startAgent(nginx.url, apiKey, join(tmp.dir, "agent"), ["--simulate-gpus", "A100-80G:2:80"]);
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i + 1}`);
  const path = writeJob(
    tmp.dir,
    "count",
    'job: |\n  for i in $(seq 1 200); do echo "line $i"; done\ncomputing:\n  minimum_num_gpus: 1\n',
  );

  const launchAndFollow = async () => {
    const launched = await api.launchJob(path, opts);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const seen: string[] = [];
    const status = await api.followRunLogs(launched.runId as string, (line) => seen.push(line), opts);
    assert.equal(status, "FINISHED");
    assert.deepEqual(seen, lines);
  };
  await launchAndFollow();

  // nginx skips the dead replica: the client and the agent carry on through the other.
  await replicas.servers[0].crash();
  await launchAndFollow();
  await launchAndFollow();
});
