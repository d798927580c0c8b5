// The built CLI as a subprocess, for everything that needs no server.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cliBin, makeTempDir, runCli } from "./support/cli.js";

const tmp = makeTempDir("cli");
after(() => tmp.cleanup());
const home = join(tmp.dir, "home");
const env = { FEDML_HOME: home };

function writeFile(name: string, text: string): string {
  const path = join(tmp.dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function assertOneErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.match(lines[0], /^error: /);
  assert.match(lines[0], pattern);
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

describe("fedml CLI without a server", () => {
  test("the CLI is built", () => assert.ok(existsSync(cliBin), `${cliBin} missing: run npx tsc -b packages/fedml`));

  test("a missing job YAML: one line with code 31, exit 1, nothing on stdout", async () => {
    const result = await runCli(["launch", join(tmp.dir, "missing.yaml")], env);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assertOneErrorLine(result.stderr, /missing\.yaml.*\(code 31 JOB_CONFIG_NOT_EXISTS\)$/);
  });

  test("a malformed job YAML: one line with code 17 naming file and line", async () => {
    const path = writeFile("bad/job.yaml", "job: echo hi\nworkspace: [\n");
    const result = await runCli(["launch", path], env);
    assert.equal(result.code, 1);
    assertOneErrorLine(result.stderr, /job\.yaml.*\(code 17 LAUNCH_JOB_STATUS_INVALID\)$/);
  });

  test("a missing workspace folder: code 11 naming the folder", async () => {
    const path = writeFile("nows/job.yaml", "workspace: not-here\njob: echo hi\n");
    const result = await runCli(["launch", path], env);
    assert.equal(result.code, 1);
    assertOneErrorLine(result.stderr, /not-here.*\(code 11 LAUNCH_JOB_STATUS_JOB_URL_ERROR\)$/);
  });

  test("launch --json prints exactly the LaunchResult, also on failure", async () => {
    const result = await runCli(["launch", join(tmp.dir, "missing.yaml"), "--json"], env);
    assert.equal(result.code, 1);
    const parsed = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(parsed).sort(), ["innerId", "projectId", "resultCode", "resultMsg", "runId"]);
    assert.equal(parsed.resultCode, 31);
    assert.equal(parsed.runId, null);
    assert.match(parsed.resultMsg, /missing\.yaml/);
  });

  test("a server that cannot be reached: launch says so with code 10, other commands with 20", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const remote = { ...env, FEDML_SERVER_URL: url, FEDML_API_KEY: "some-key" };
    const path = writeFile("ok/job.yaml", "job: echo hi\n");
    const launch = await runCli(["launch", path], remote);
    assert.equal(launch.code, 1);
    assertOneErrorLine(launch.stderr, new RegExp(`cannot reach the FedML server at ${url}.*\\(code 10 `));
    const list = await runCli(["run", "list"], remote);
    assert.equal(list.code, 1);
    assertOneErrorLine(list.stderr, /cannot reach the FedML server.*\(code 20 ERROR\)$/);
  });

  test("a configured server without a key says how to log in", async () => {
    const result = await runCli(["run", "list"], { ...env, FEDML_SERVER_URL: "http://127.0.0.1:9" });
    assert.equal(result.code, 1);
    assertOneErrorLine(result.stderr, /no API key for http:\/\/127\.0\.0\.1:9: run fedml login/);
  });

  test("run status with neither id nor name: code 3", async () => {
    const result = await runCli(["run", "status"], env);
    assert.equal(result.code, 1);
    assertOneErrorLine(result.stderr, /give a RUN_ID or --name NAME \(code 3 /);
  });

  test("bad flag values and unknown commands fail in one line", async () => {
    const page = await runCli(["run", "logs", "7", "--page", "x"], env);
    assert.notEqual(page.code, 0);
    assert.equal(page.stderr.trim().split("\n").length, 1, page.stderr);
    assert.match(page.stderr, /--page must be a whole number/);
    const unknown = await runCli(["lanch"], env);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown command 'lanch'/);
  });

  test("server status --json with nothing started (exit 3, as an init script's status); logout --json", async () => {
    const status = await runCli(["server", "status", "--json"], env);
    assert.equal(status.code, 3, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout), { running: false, url: null, pid: null, agentPid: null });
    const logout = await runCli(["logout", "--json"], env);
    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual(JSON.parse(logout.stdout), { loggedOut: false });
    assert.equal(statSync(join(home, "config.json")).mode & 0o777, 0o600);
  });

  test("--help lists every command group", async () => {
    const help = await runCli(["--help"], env);
    assert.equal(help.code, 0);
    for (const name of ["login", "logout", "launch", "run", "device", "server", "user"]) {
      assert.match(help.stdout, new RegExp(`\\n  ${name}\\b`));
    }
  });
});
