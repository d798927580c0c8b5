// Killing the control plane (SIGKILL) while a job runs loses nothing: the agent keeps the
// job going, buffers its log lines and reports once the server is back on the same port.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, createUser, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("crash");
let server: ServerProcess | undefined;
let agent: AgentProcess | undefined;

after(async () => {
  await agent?.stop();
  await server?.stop();
  tmp.cleanup();
});

test("a server killed with SIGKILL mid-run comes back and the run ends FINISHED with every line once", async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  const home = join(tmp.dir, "server-home");
  server = await startServer(home);
  const opts = { serverUrl: server.url, apiKey: await createUser(server, "carol") };
  agent = await startAgent(server.url, opts.apiKey, join(tmp.dir, "agent"));
  const path = writeJob(tmp.dir, "slow", 'job: |\n  for i in $(seq 1 300); do echo "tick $i"; sleep 0.01; done\n');
  const launched = await api.launchJob(path, opts);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  const runId = launched.runId!;
  await waitFor("the first lines", async () => (await api.runLogs(runId, 1, 10, opts)).totalLogLines > 20);

  await server.crash();
  await new Promise((r) => setTimeout(r, 1500));
  server = await startServer(home, { port: server.port });

  const status = await waitFor(
    "the run to end",
    async () => {
      const { status } = await api.runStatus(null, runId, opts);
      return status === "FINISHED" || status === "FAILED" || status === "KILLED" ? status : undefined;
    },
    30_000,
  );
  assert.equal(status, "FINISHED");
  const logs = await api.runLogs(runId, 1, 50, { needAllLogs: true, ...opts });
  assert.deepEqual(
    logs.logLineList,
    Array.from({ length: 300 }, (_, i) => `tick ${i + 1}`),
  );
  assert.equal(logs.totalLogLines, 300);
});
