// The README's federated and serving examples, exactly as documented: the embedded default
// with four local devices (`fedml server start --local-devices 4`), then `fedml launch`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { repoRoot } from "./support/paths.js";
import { isAlive, runCli } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("cli-examples");
const env = { FEDML_HOME: join(tmp.dir, "home"), FEDML_SERVER_URL: "", FEDML_API_KEY: "" };

after(async () => {
  await runCli(["server", "stop"], env);
  tmp.cleanup();
});

test("fedml server start --local-devices 4 runs four local devices", async () => {
  const started = await runCli(["server", "start", "--local-devices", "4"], env, 90_000);
  assert.equal(started.code, 0, started.stderr);
  const list = await runCli(["device", "list", "--json"], env);
  const devices = (JSON.parse(list.stdout) as { deviceList: { status: string; name: string }[] }).deviceList;
  assert.equal(devices.length, 4, list.stdout);
  assert.ok(devices.every((d) => d.status !== "OFFLINE"));
});

test("the federated FedAvg example runs from the README and its accuracy rises", async () => {
  const result = await runCli(["launch", join(repoRoot, "examples/federated_fedavg/job.yaml")], env, 180_000);
  assert.equal(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  // Four nodes: each line carries the node that wrote it; the server is rank 0.
  const accuracies = [
    ...result.stdout.matchAll(/^\[rank 0 [^\]]+\] round ([1-9]\d*)\/8 global model test accuracy ([\d.]+)$/gm),
  ].map((m) => Number(m[2]));
  assert.equal(accuracies.length, 8, result.stdout);
  assert.ok(accuracies[7] > accuracies[0], accuracies.join(" "));
  assert.match(result.stdout, /FINISHED/);
});

test("the serving example runs from the README and answers through the proxy", async () => {
  const launched = await runCli(["launch", join(repoRoot, "examples/serve_model/job.yaml"), "--detach", "--json"], env, 60_000);
  assert.equal(launched.code, 0, launched.stderr);
  const { innerId } = JSON.parse(launched.stdout) as { innerId: string };
  const endpoint = await waitFor(
    "endpoint READY",
    async () => {
      const status = await runCli(["endpoint", "status", innerId, "--json"], env);
      const body = JSON.parse(status.stdout) as { status: string; inferenceUrl: string };
      return body.status === "READY" ? body : undefined;
    },
    30_000,
    300,
  );
  const adminKey = readFileSync(join(env.FEDML_HOME, "server", "admin-key"), "utf8").trim();
  const answer = await fetch(`${endpoint.inferenceUrl}predict`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ inputs: [[1, 2]] }),
  });
  assert.equal(answer.status, 200);
  assert.equal(((await answer.json()) as { outputs: number[] }).outputs.length, 1);
  const deleted = await runCli(["endpoint", "delete", innerId], env);
  assert.equal(deleted.code, 0, deleted.stderr);
});

test("fedml server stop stops the extra local devices too", async () => {
  const agentHomes = [2, 3, 4].map((slot) => join(env.FEDML_HOME, `local-agent-${slot}`));
  const pids = agentHomes.map((home) => Number(readFileSync(join(home, "agent.pid"), "utf8").trim()));
  assert.ok(pids.every((pid) => isAlive(pid)));
  const stop = await runCli(["server", "stop"], env, 60_000);
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(pids.every((pid) => !isAlive(pid)));
});
