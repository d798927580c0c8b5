// The CLI as scripts and people use it, end to end through the real `fedml` binary against a
// real server and real agents: JSON errors, exit codes that follow the job's, every node's
// logs, run list filters, the original CLI's flags, offers, and the admin's key lifecycle.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { cliBin } from "./support/paths.js";
import { type AgentProcess, type ServerProcess, createUser, runCli, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("cli-scripting");
let server: ServerProcess;
const agents: AgentProcess[] = [];
let boxA: AgentProcess;
let boxB: AgentProcess;
let alice: { serverUrl: string; apiKey: string };
let aliceEnv: Record<string, string>;
let adminEnv: Record<string, string>;

function job(name: string, lines: string[]): string {
  const dir = join(tmp.dir, name);
  spawnSync("mkdir", ["-p", dir]);
  const path = join(dir, "job.yaml");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

const shellJob = (name: string, script: string) => job(name, ["job: |", ...script.split("\n").map((l) => `  ${l}`)]);

function json<T>(result: { code: number; stdout: string; stderr: string }): T {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  server = await startServer(join(tmp.dir, "server-home"), { extraArgs: ["--stop-grace-ms", "1500"] });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  const base = { FEDML_HOME: join(tmp.dir, "cli-home"), FEDML_SERVER_URL: server.url };
  aliceEnv = { ...base, FEDML_API_KEY: alice.apiKey };
  adminEnv = { ...base, FEDML_API_KEY: server.adminKey };
  const common = ["--address", "127.0.0.1", "--max-jobs", "1"];
  boxA = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent-a"), ["--name", "box-a", ...common]);
  boxB = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent-b"), [
    "--name",
    "box-b",
    "--provider",
    "runpod",
    "--price",
    "0.004",
    "--simulate-gpus",
    "A100-80G:2:80",
    ...common,
  ]);
  agents.push(boxA, boxB);
});

after(async () => {
  for (const agent of agents) await agent.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("scripting", () => {
  test("--json errors are an object {resultCode, message} on stdout with the non-zero exit", async () => {
    const missing = await runCli(["run", "status", "999999", "--json"], aliceEnv);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "");
    const body = JSON.parse(missing.stdout) as { resultCode: number; message: string };
    assert.deepEqual(Object.keys(body).sort(), ["message", "resultCode"]);
    assert.equal(body.resultCode, 25);
    assert.match(body.message, /999999/);

    const usage = await runCli(["run", "logs", "1", "--page", "x", "--json"], aliceEnv);
    assert.equal(usage.code, 1);
    assert.equal(usage.stderr, "");
    const usageBody = JSON.parse(usage.stdout) as { resultCode: number; message: string };
    assert.equal(usageBody.resultCode, 3);
    assert.match(usageBody.message, /--page must be a whole number/);

    const plain = await runCli(["run", "status", "999999"], aliceEnv);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, "");
    assert.match(plain.stderr, /^error: .*\(code 25 JOB_NOT_EXISTS\)\n$/);
  });

  test("fedml launch and fedml run logs -f exit with the job's exit code; a stopped run exits 143", async () => {
    const failing = shellJob("exit7", "echo about to fail\nexit 7");
    const launched = await runCli(["launch", failing], aliceEnv, 60_000);
    assert.equal(launched.code, 7, `${launched.stdout}\n${launched.stderr}`);
    assert.match(launched.stdout, /about to fail/);
    assert.match(launched.stdout, /FAILED \(exit 7\)/);
    const runId = /run (\d+) launched/.exec(launched.stdout)?.[1];
    assert.ok(runId, launched.stdout);

    const followed = await runCli(["run", "logs", runId, "-f", "--json"], aliceEnv);
    assert.equal(followed.code, 7);
    assert.deepEqual(JSON.parse(followed.stdout), { runId, status: "FAILED", exitCode: 7 });

    const ok = await runCli(["launch", shellJob("ok", "echo fine")], aliceEnv, 60_000);
    assert.equal(ok.code, 0, ok.stderr);

    const long = json<{ runId: string }>(await runCli(["launch", shellJob("long", "sleep 60"), "--detach", "--json"], aliceEnv));
    const follower = runCli(["run", "logs", "-rid", long.runId, "-f"], aliceEnv, 60_000);
    await waitFor("the long run to be RUNNING", async () => (await api.runStatus(null, long.runId, alice)).status === "RUNNING");
    assert.equal((await runCli(["run", "stop", long.runId], aliceEnv)).code, 0);
    const stopped = await follower;
    assert.equal(stopped.code, 143, `${stopped.stdout}\n${stopped.stderr}`);
    assert.match(stopped.stderr, /KILLED/);
  });

  test("logs of a two-node run: every node, tagged [rank N device]; --node, --tail, --timestamps, -f, the original's flags", async () => {
    const path = job("fl", [
      "job_type: federate",
      "server_job: |",
      "  for i in 1 2 3; do echo server line $i; done",
      "job: |",
      "  for i in 1 2; do echo edge line $i; done",
      "computing:",
      "  minimum_num_gpus: 0",
    ]);
    const launched = await runCli(
      ["launch", path, "--device-server", boxA.deviceId, "--device-edges", boxB.deviceId, "--json"],
      aliceEnv,
      60_000,
    );
    assert.equal(launched.code, 0, launched.stderr);
    const runId = (JSON.parse(launched.stdout) as { runId: string }).runId;
    // The launch followed every node's output to the end (on stderr under --json).
    assert.match(launched.stderr, /\[rank 0 box-a\] server line 3/);
    assert.match(launched.stderr, /\[rank 1 box-b\] edge line 2/);

    const all = await runCli(["run", "logs", runId], aliceEnv);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split("\n");
    assert.deepEqual(
      lines.filter((l) => / line \d$/.test(l)),
      [
        "[rank 0 box-a] server line 1",
        "[rank 0 box-a] server line 2",
        "[rank 0 box-a] server line 3",
        "[rank 1 box-b] edge line 1",
        "[rank 1 box-b] edge line 2",
      ],
    );
    assert.match(all.stderr, /on 2 nodes; run FINISHED/);

    const edge = await runCli(["run", "logs", runId, "--node", "1", "--tail", "1"], aliceEnv);
    assert.equal(edge.code, 0, edge.stderr);
    assert.equal(edge.stdout, "edge line 2\n", "one node: no tag; --tail 1: its last line");

    const stamped = await runCli(["run", "logs", runId, "--node", "0", "--timestamps", "--tail", "1"], aliceEnv);
    assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z server line 3\n$/);

    const page = await runCli(["run", "logs", "-rid", runId, "-pn", "1", "-ps", "2"], aliceEnv);
    assert.equal(page.code, 0, page.stderr);
    assert.equal(page.stdout.trim().split("\n").length, 2);
    assert.match(page.stderr, /page 1\//);

    const followed = await runCli(["run", "logs", runId, "-f"], aliceEnv);
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /\[rank 0 box-a\] server line 1/);
    assert.match(followed.stdout, /\[rank 1 box-b\] edge line 1/);

    const noNode = await runCli(["run", "logs", runId, "--node", "5"], aliceEnv);
    assert.equal(noNode.code, 1);
    assert.match(noNode.stderr, /no node of rank 5.*code 3 /);
  });

  test("run list --status, --limit, --watch; -k gives the key", async () => {
    const finished = json<{ runList: { status: string }[] }>(
      await runCli(["run", "list", "--status", "finished", "--json"], aliceEnv),
    );
    assert.ok(finished.runList.length >= 2);
    assert.ok(finished.runList.every((r) => r.status === "FINISHED"));
    const one = json<{ runList: unknown[] }>(await runCli(["run", "list", "--limit", "1", "--json"], aliceEnv));
    assert.equal(one.runList.length, 1);
    const withKey = await runCli(["-k", alice.apiKey, "run", "list", "--limit", "1", "--json"], {
      ...aliceEnv,
      FEDML_API_KEY: "",
    });
    assert.equal(withKey.code, 0, withKey.stderr);
    const legacyKey = await runCli(["run", "list", "--api_key", alice.apiKey, "--json"], { ...aliceEnv, FEDML_API_KEY: "" });
    assert.equal(legacyKey.code, 0, legacyKey.stderr);

    // --watch prints the list again and again until interrupted; Ctrl-C ends it with 0.
    const child = spawn(process.execPath, [cliBin, "run", "list", "--watch", "0.2", "--json"], {
      env: { ...process.env, ...aliceEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitFor("three lists", () => out.split("\n").filter((l) => l.startsWith("{")).length >= 3, 20_000);
    child.kill("SIGINT");
    assert.equal(await exited, 0);
  });

  test("fedml offers filters by GPU, price and provider; fedml version; completion scripts", async () => {
    const offers = json<{ offerList: { name: string }[] }>(
      await runCli(["offers", "--gpu", "A100", "--max-price", "1", "--provider", "runpod", "--json"], aliceEnv),
    );
    assert.deepEqual(
      offers.offerList.map((o) => o.name),
      ["box-b"],
    );
    const none = json<{ offerList: unknown[] }>(await runCli(["offers", "--gpu", "H100", "--json"], aliceEnv));
    assert.equal(none.offerList.length, 0);
    const table = await runCli(["offers"], aliceEnv);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /box-b/);
    assert.match(table.stdout, /0\.004000/, "a small price keeps its digits");

    const version = await runCli(["version"], aliceEnv);
    assert.match(version.stdout, /^fedml \d+\.\d+\.\d+\n$/);

    const bash = await runCli(["completion", "bash"], aliceEnv);
    assert.equal(bash.code, 0, bash.stderr);
    const script = join(tmp.dir, "completion.bash");
    writeFileSync(script, bash.stdout);
    const complete = (words: string) =>
      spawnSync(
        "bash",
        [
          "-c",
          `source ${script}; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _fedml_complete; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: "utf8" },
      ).stdout.trim();
    assert.equal(complete("fedml run lo"), "logs");
    assert.match(complete("fedml run logs 1 --ta"), /--tail/);
    assert.match(complete("fedml off"), /offers/);
    for (const shell of ["zsh", "fish"]) {
      const other = await runCli(["completion", shell], aliceEnv);
      assert.equal(other.code, 0, other.stderr);
      assert.match(other.stdout, /offers/);
    }
    const bad = await runCli(["completion", "tcsh"], aliceEnv);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SHELL must be one of bash, zsh, fish/);
  });
});

describe("admin", () => {
  test("--all-users on run list and device list is for admins only", async () => {
    const runs = json<{ runList: { ownerName?: string }[] }>(await runCli(["run", "list", "--all-users", "--json"], adminEnv));
    assert.ok(runs.runList.length >= 3, "the admin sees alice's runs");
    assert.ok(
      runs.runList.every((r) => r.ownerName === "alice"),
      "each with its owner",
    );
    const table = await runCli(["run", "list", "--all-users", "--limit", "1"], adminEnv);
    assert.match(table.stdout, /^OWNER\s+RUN ID/);
    const own = json<{ runList: unknown[] }>(await runCli(["run", "list", "--json"], adminEnv));
    assert.equal(own.runList.length, 0, "without --all-users the admin sees their own");
    const devices = json<{ deviceList: { name: string; ownerName: string }[] }>(
      await runCli(["device", "list", "--all-users", "--json"], adminEnv),
    );
    assert.deepEqual(devices.deviceList.map((d) => `${d.name}:${d.ownerName}`).sort(), ["box-a:alice", "box-b:alice"]);
    const refused = await runCli(["run", "list", "--all-users"], aliceEnv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /alice is not an admin \(code 20 ERROR\)/);
  });

  test("user rotate, revoke, disable and expiring keys", async () => {
    const carol = json<{ apiKey: string }>(await runCli(["user", "create", "carol", "--json"], adminEnv));
    const asCarol = (key: string) => runCli(["run", "list", "--json"], { ...adminEnv, FEDML_API_KEY: key });
    assert.equal((await asCarol(carol.apiKey)).code, 0);

    const rotated = json<{ apiKey: string; user: { name: string } }>(
      await runCli(["user", "rotate", "carol", "--json"], adminEnv),
    );
    assert.equal(rotated.user.name, "carol");
    assert.notEqual(rotated.apiKey, carol.apiKey);
    assert.equal((await asCarol(carol.apiKey)).code, 1, "the old key is refused");
    assert.equal((await asCarol(rotated.apiKey)).code, 0, "the new key works");

    const disabled = await runCli(["user", "disable", "carol"], adminEnv);
    assert.equal(disabled.stdout, "user carol disabled\n");
    const refused = await asCarol(rotated.apiKey);
    assert.equal(refused.code, 1);
    assert.equal(JSON.parse(refused.stdout).resultCode, 20);
    const listed = json<{ userList: { name: string; disabled: boolean }[] }>(await runCli(["user", "list", "--json"], adminEnv));
    assert.equal(listed.userList.find((u) => u.name === "carol")?.disabled, true);
    assert.equal((await runCli(["user", "disable", "carol", "--enable"], adminEnv)).stdout, "user carol enabled\n");
    assert.equal((await asCarol(rotated.apiKey)).code, 0);

    const revoked = await runCli(["user", "revoke", "carol"], adminEnv);
    assert.equal(revoked.stdout, "user carol: 1 API key revoked\n");
    assert.equal((await asCarol(rotated.apiKey)).code, 1);

    // A key that expires 8 seconds after it is made: accepted, then refused.
    const shortLived = json<{ apiKey: string }>(
      await runCli(["user", "rotate", "carol", "--expires-days", String(8 / 86_400), "--json"], adminEnv),
    );
    assert.equal((await asCarol(shortLived.apiKey)).code, 0);
    const me = async () =>
      (await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${shortLived.apiKey}` } })).status;
    await waitFor("the key to expire", async () => (await me()) === 401, 30_000, 250);
    assert.equal((await asCarol(shortLived.apiKey)).code, 1);

    const unknown = await runCli(["user", "rotate", "nobody"], adminEnv);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /user nobody not found \(code 3 /);
    const notAdmin = await runCli(["user", "revoke", "carol"], aliceEnv);
    assert.match(notAdmin.stderr, /not an admin/);
  });
});

describe("operator", () => {
  test("/metrics: runs by status, queue, placements, devices online, GPU-hours, log lines, HTTP latency by route", async () => {
    const gpuJob = job("gpu", [
      "job: |",
      "  echo on a GPU",
      "  sleep 1",
      "computing:",
      "  minimum_num_gpus: 1",
      "  resource_type: A100",
    ]);
    const launched = await runCli(["launch", gpuJob], aliceEnv, 60_000);
    assert.equal(launched.code, 0, launched.stderr);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (series: string): number => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      assert.ok(line, `${series} in /metrics:\n${text.slice(0, 3000)}`);
      return Number(line.slice(series.length + 1));
    };
    const finished = (await api.runList(null, { ...alice, status: ["FINISHED"] })).runList.length;
    assert.equal(value('fedml_runs{status="FINISHED"}'), finished);
    assert.equal(value('fedml_runs{status="FAILED"}'), 1);
    assert.equal(value("fedml_queue_length"), 0);
    assert.ok(value("fedml_placements_total") >= finished + 2);
    assert.equal(value("fedml_devices_online"), 2);
    assert.ok(value('fedml_job_yaml_reads_total{how="worker"}') >= 1);
    assert.ok(value("fedml_job_yaml_workers_started_total") >= 1);
    const gpuHours = value("fedml_gpu_hours_total");
    assert.ok(gpuHours > 0 && gpuHours < 0.1, `GPU-hours ${gpuHours}`);
    assert.ok(value("fedml_log_lines_ingested_total") >= 8);
    assert.ok(value("fedml_queue_wait_seconds_count") >= finished);
    assert.match(
      text,
      /fedml_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/runs\/:id\/log-lines",status_code="200"\} \d+/,
    );
    assert.match(text, /fedml_server_process_resident_memory_bytes \d+/);
  });
});
