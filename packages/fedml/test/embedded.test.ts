// The embedded default end to end: a real local server and agent started by the CLI in a
// temp FEDML_HOME, a real job, then stopped again.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { makeTempDir, runCli } from "./support/cli.js";

const tmp = makeTempDir("embedded");
const home = join(tmp.dir, "home");
const env = { FEDML_HOME: home };

const isAlive = (pid: number | null) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

after(async () => {
  await runCli(["server", "stop"], env);
  tmp.cleanup();
});

function json<T>(result: { code: number; stdout: string; stderr: string }): T {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

interface Status {
  running: boolean;
  url: string | null;
  pid: number | null;
  agentPid: number | null;
}

describe("the embedded default", () => {
  let started: Status;

  test("server start brings up a local server and agent; status reports them; start again reuses them", async () => {
    const first = await runCli(["server", "start", "--json"], env);
    started = json<Status>(first);
    assert.equal(started.running, true);
    // Said once, on stderr: what was started, where its logs are, how to stop it.
    assert.match(first.stderr, /started the embedded FedML server at http:\/\/127\.0\.0\.1:\d+ \(pid \d+, log .*server\.log\)/);
    assert.match(first.stderr, /local agent \(pid \d+, log .*agent\.log\)/);
    assert.match(first.stderr, /fedml server stop stops them/);
    assert.match(started.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(isAlive(started.pid), "server pid alive");
    assert.ok(isAlive(started.agentPid), "agent pid alive");
    assert.equal(statSync(join(home, "server", "admin-key")).mode & 0o777, 0o600);
    assert.ok(existsSync(join(home, "server", "server.log")));

    assert.deepEqual(json<Status>(await runCli(["server", "status", "--json"], env)), started);
    const again = await runCli(["server", "start", "--json"], env);
    assert.deepEqual(json<Status>(again), started);
    assert.doesNotMatch(again.stderr, /started the embedded/, "nothing new started: nothing said");
    const humanStart = await runCli(["server", "start"], env);
    const port = new URL(started.url!).port;
    assert.match(
      humanStart.stdout,
      new RegExp(
        `export FEDML_ENV_LOCAL_ON_PREMISE_PLATFORM_HOST=127\\.0\\.0\\.1\n.*export FEDML_ENV_LOCAL_ON_PREMISE_PLATFORM_PORT=${port}\n`,
      ),
    );
    const human = await runCli(["server", "status"], env);
    assert.match(human.stdout, new RegExp(`${started.url}.*pid ${started.pid}`));
  });

  test("with no login the admin key is used: the local device is listed online", async () => {
    const { deviceList } = json<{ deviceList: { name: string; status: string }[] }>(
      await runCli(["device", "list", "--json"], env),
    );
    assert.equal(deviceList.length, 1);
    assert.match(deviceList[0].name, /^local-/);
    assert.notEqual(deviceList[0].status, "OFFLINE");
  });

  test("a user made by the admin logs in (key saved 0600) and launches a job that FINISHES", async () => {
    const created = json<{ apiKey: string; user: { name: string } }>(await runCli(["user", "create", "carol", "--json"], env));
    assert.equal(created.user.name, "carol");
    const badLogin = await runCli(["login", "not-a-key"], env);
    assert.equal(badLogin.code, 1);
    assert.match(badLogin.stderr, /^error: .*\(code \d+ [A-Z_]+\)\n$/);

    assert.equal(json<number>(await runCli(["login", created.apiKey, "--json"], env)), 0);
    assert.equal(statSync(join(home, "config.json")).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(join(home, "config.json"), "utf8")), { serverUrl: null, apiKey: created.apiKey });

    const dir = join(tmp.dir, "job");
    mkdirSync(join(dir, "ws"), { recursive: true });
    writeFileSync(join(dir, "ws", "hello.sh"), "echo hello from the workspace\n");
    writeFileSync(join(dir, "job.yaml"), "workspace: ws\njob: |\n  echo start\n  bash hello.sh\n");
    const launch = await runCli(["launch", join(dir, "job.yaml")], env);
    assert.equal(launch.code, 0, `stdout:\n${launch.stdout}\nstderr:\n${launch.stderr}`);
    assert.match(launch.stdout, /run (\S+) launched/);
    assert.match(launch.stdout, /hello from the workspace/);
    assert.match(launch.stdout, /FINISHED/);
    const runId = /run (\S+) launched/.exec(launch.stdout)![1];

    const status = json<{ status: string; runList: { runList: { runId: string }[] } }>(
      await runCli(["run", "status", runId, "--json"], env),
    );
    assert.equal(status.status, "FINISHED");
    assert.equal(String(status.runList.runList[0].runId), runId);
    const logs = await runCli(["run", "logs", runId, "--all"], env);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /start\nhello from the workspace/);

    const failing = join(dir, "fail.yaml");
    writeFileSync(failing, "job: exit 3\n");
    const failed = await runCli(["launch", failing], env);
    assert.equal(failed.code, 3, `the job's own exit code\n${failed.stdout}`);
    assert.match(failed.stdout, /FAILED/);
  });

  test("device bind (and login -c) binds this machine with its options; unbind removes it", async () => {
    // carol is logged in now: creating a user takes the admin key.
    const adminKey = readFileSync(join(home, "server", "admin-key"), "utf8").trim();
    const asAdmin = { ...env, FEDML_API_KEY: adminKey };
    const key = json<{ apiKey: string }>(await runCli(["user", "create", "erin", "--json"], asAdmin)).apiKey;
    const bound = json<{ deviceId: string; serverUrl: string; pid: number }>(
      await runCli(["login", key, "-c", "--name", "gpu-box", "--simulate-gpus", "A100:2:80", "--price", "1.5", "--json"], env),
    );
    assert.equal(bound.serverUrl, started.url);
    assert.ok(isAlive(bound.pid));
    const erinView = json<{ deviceList: { deviceId: string; name: string; gpuCount: number; pricePerGpuHour: number }[] }>(
      await runCli(["device", "list", "--json"], { ...env, FEDML_API_KEY: key }),
    );
    const box = erinView.deviceList.find((d) => String(d.deviceId) === String(bound.deviceId));
    assert.ok(box, JSON.stringify(erinView));
    assert.equal(box.name, "gpu-box");
    assert.equal(box.gpuCount, 2);
    assert.equal(box.pricePerGpuHour, 1.5);

    const bad = await runCli(["device", "bind", key, "--simulate-gpus", "nonsense"], env);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);

    const unbound = json<{ unbound: boolean; deviceId: string }>(await runCli(["device", "unbind", "--json"], env));
    assert.equal(unbound.unbound, true);
    assert.equal(String(unbound.deviceId), String(bound.deviceId));
    assert.equal(isAlive(bound.pid), false);
  });

  test("server stop ends both processes; status then says not running", async () => {
    const stopped = json<{ agentStopped: boolean; serverStopped: boolean }>(await runCli(["server", "stop", "--json"], env));
    assert.deepEqual(stopped, { agentStopped: true, serverStopped: true });
    assert.equal(isAlive(started.pid), false);
    assert.equal(isAlive(started.agentPid), false);
    const after = await runCli(["server", "status", "--json"], env);
    assert.equal(after.code, 3, "status exits 3 when nothing runs");
    assert.deepEqual(JSON.parse(after.stdout), { running: false, url: null, pid: null, agentPid: null });
  });
});
