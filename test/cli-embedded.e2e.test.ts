// The README's main command: `fedml launch examples/hello_world/job.yaml` on a machine with
// no server configured starts the embedded default (local server + local agent) and runs
// the example to FINISHED, printing the job's own output.
import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { repoRoot } from "./support/paths.js";
import { isAlive, runCli } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";

const tmp = makeTempDir("cli");
const env = { FEDML_HOME: join(tmp.dir, "home"), FEDML_SERVER_URL: "", FEDML_API_KEY: "" };

after(async () => {
  await runCli(["server", "stop"], env);
  tmp.cleanup();
});

test("fedml launch runs the hello world example on the embedded default", async () => {
  const result = await runCli(["launch", join(repoRoot, "examples/hello_world/job.yaml")], env, 90_000);
  assert.equal(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  assert.match(result.stdout, /Bootstrap finished\./);
  assert.match(result.stdout, /Hello from FedML Launch!/);
  assert.match(result.stdout, /hello world finished/);
  assert.match(result.stdout, /FINISHED/);
  assert.match(result.stderr, /started the embedded FedML server .*fedml server stop stops them/);
  const adminKeyFile = join(env.FEDML_HOME, "server", "admin-key");
  assert.equal(statSync(adminKeyFile).mode & 0o777, 0o600);
});

test("fedml run list --json prints the SDK's object; server status gives the URL and PID", async () => {
  const list = await runCli(["run", "list", "--json"], env);
  assert.equal(list.code, 0, list.stderr);
  const parsed = JSON.parse(list.stdout) as { runList: { status: string; runName: string }[] };
  assert.equal(parsed.runList.length, 1);
  assert.equal(parsed.runList[0].status, "FINISHED");
  assert.equal(parsed.runList[0].runName, "hello_world_FedMLLaunchApp");

  const status = await runCli(["server", "status", "--json"], env);
  assert.equal(status.code, 0, status.stderr);
  const body = JSON.parse(status.stdout) as { running: boolean; url: string; pid: number };
  assert.equal(body.running, true);
  assert.match(body.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(isAlive(body.pid));

  const stop = await runCli(["server", "stop"], env);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(isAlive(body.pid), false);
  const after = await runCli(["server", "status", "--json"], env);
  assert.equal(after.code, 3, "status exits 3 when nothing runs");
  assert.equal(JSON.parse(after.stdout).running, false);
});

test("bad input: one line on stderr with the code, non-zero exit", async () => {
  const missing = await runCli(["launch", join(tmp.dir, "missing.yaml")], env);
  assert.notEqual(missing.code, 0);
  assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
  assert.match(missing.stderr, /job YAML not found: .*missing\.yaml.*31/);

  const badYaml = join(tmp.dir, "bad.yaml");
  writeFileSync(badYaml, "job: echo hi\nworkspace: [\n");
  const malformed = await runCli(["launch", badYaml], env);
  assert.notEqual(malformed.code, 0);
  assert.equal(malformed.stderr.trim().split("\n").length, 1, malformed.stderr);
  assert.match(malformed.stderr, /17/);
});
