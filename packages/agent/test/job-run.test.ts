import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Assignment, RunStatusReport } from "@fedml/core";
import { JobRun } from "../src/runner/job-run.js";
import { eventually, isProcessLive, liveGroupMembers } from "./support.js";
import { readRunState } from "../src/runner/run-state.js";

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function assignment(runId: string, job: string | null, extra: Partial<Assignment> = {}): Assignment {
  return {
    runId,
    rank: 1,
    nodeIndex: 0,
    numNodes: 1,
    gpuIndices: [],
    workspaceSha256: null,
    bootstrap: null,
    job: { posix: job, windows: null },
    env: { FEDML_CURRENT_RUN_ID: runId, MY_VAR: "hello world" },
    stopRequested: false,
    stopGraceMs: 2000,
    ...extra,
  };
}

function start(a: Assignment) {
  const home = mkdtempSync(join(tmpdir(), "fedml-run-"));
  homes.push(home);
  const lines: { stream: string; text: string }[] = [];
  const statuses: RunStatusReport[] = [];
  const run = new JobRun(a, {
    home,
    prepareWorkspace: async (folder: string) => {
      const dir = join(folder, "workspace");
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    onLine: (stream, text) => lines.push({ stream, text }),
    onStatus: (report) => statuses.push(report),
    log: () => {},
  });
  return { home, run, lines, statuses, texts: () => lines.map((l) => l.text) };
}

const isPidAlive = isProcessLive;

describe("JobRun", () => {
  test("runs job.sh in an empty workspace with the run's env; exit 0 is FINISHED", async () => {
    const r = start(
      assignment(
        "run-env",
        'echo "run=$FEDML_CURRENT_RUN_ID var=$MY_VAR unbuffered=$PYTHONUNBUFFERED"\npwd\nls -A | wc -l\necho oops >&2\nprintf "no newline"',
      ),
    );
    const outcome = await r.run.done;
    assert.deepEqual(outcome, { status: "FINISHED", exitCode: 0, reason: null });
    // The run's folder is gone once it has FINISHED; this is where the job ran.
    const workspace = join(realpathSync(r.home), "runs", "run-env", "job", "workspace");
    assert.deepEqual(
      r.lines.filter((l) => l.stream === "stdout").map((l) => l.text),
      ["run=run-env var=hello world unbuffered=1", workspace, "0", "no newline"],
    );
    assert.deepEqual(
      r.lines.filter((l) => l.stream === "stderr").map((l) => l.text),
      ["oops"],
    );
    // No workspace and no bootstrap: nothing to initialise, so no INITIALIZING report.
    assert.deepEqual(
      r.statuses.map((s) => s.status),
      ["RUNNING"],
    );
    const state = readRunState(r.home, "run-env");
    assert.equal(state?.status, "FINISHED");
    assert.equal(state?.reported, false);
    // A run that did not fail leaves nothing but its state (a line of the journal) behind.
    assert.ok(!existsSync(join(r.home, "runs", "run-env", "job")));
  });

  test("a non-zero exit is FAILED with the code; a signal death is 128 + signo", async () => {
    const three = await start(assignment("run-exit", "echo before\nexit 3")).run.done;
    assert.deepEqual(three, { status: "FAILED", exitCode: 3, reason: "job exited with code 3" });
    const killed = await start(assignment("run-sig", "kill -9 $$")).run.done;
    assert.equal(killed.status, "FAILED");
    assert.equal(killed.exitCode, 137);
    assert.match(killed.reason ?? "", /SIGKILL/);
  });

  test("a failing bootstrap ends the run FAILED and the job never starts", async () => {
    const r = start(assignment("run-boot", "touch job-ran", { bootstrap: { posix: "echo installing\nexit 4", windows: null } }));
    const outcome = await r.run.done;
    assert.deepEqual(outcome, { status: "FAILED", exitCode: 4, reason: "bootstrap exited with code 4" });
    assert.deepEqual(r.texts(), ["installing"]);
    assert.equal(existsSync(join(r.home, "runs", "run-boot", "workspace", "job-ran")), false);
    assert.deepEqual(
      r.statuses.map((s) => s.status),
      ["INITIALIZING"],
    );
  });

  test("bootstrap then job share the workspace", async () => {
    const r = start(
      assignment("run-both", "cat made-by-bootstrap", { bootstrap: { posix: "echo ready > made-by-bootstrap", windows: null } }),
    );
    assert.equal((await r.run.done).status, "FINISHED");
    assert.deepEqual(r.texts(), ["ready"]);
  });

  test("a job without a posix command fails with a reason", async () => {
    const outcome = await start(assignment("run-none", null)).run.done;
    assert.equal(outcome.status, "FAILED");
    assert.match(outcome.reason ?? "", /no command for Linux\/macOS/);
  });

  test("stop kills the whole process group and ends KILLED", async () => {
    const r = start(assignment("run-stop", 'sleep 1000 & echo "bg $!"; sleep 1000; wait'));
    while (!r.texts().some((t) => t.startsWith("bg "))) await new Promise((res) => setTimeout(res, 20));
    const bgPid = Number(r.texts()[0].slice(3));
    const pgid = r.run.pid;
    assert.ok(pgid && liveGroupMembers(pgid).length >= 2 && isPidAlive(bgPid));
    r.run.stop("user", 2000);
    const outcome = await r.run.done;
    assert.deepEqual(outcome, { status: "KILLED", exitCode: null, reason: "stopped by the user" });
    assert.ok(await eventually(() => !isPidAlive(bgPid)));
    assert.deepEqual(liveGroupMembers(pgid), []);
  });

  test("SIGKILL follows when the group ignores SIGTERM", async () => {
    const r = start(assignment("run-stubborn", "trap '' TERM\necho trapped\nwhile true; do sleep 0.05; done"));
    while (!r.texts().includes("trapped")) await new Promise((res) => setTimeout(res, 20));
    const pgid = r.run.pid ?? 0;
    const t0 = Date.now();
    r.run.stop("agent", 300);
    assert.deepEqual(await r.run.done, { status: "FAILED", exitCode: null, reason: "agent stopped" });
    assert.ok(Date.now() - t0 >= 250);
    assert.deepEqual(liveGroupMembers(pgid), []);
  });

  test("stragglers are killed when the main process exits", async () => {
    const r = start(assignment("run-straggler", 'sleep 1000 &\necho "bg $!"\nexit 0'));
    assert.equal((await r.run.done).status, "FINISHED");
    const bgPid = Number(r.texts()[0].slice(3));
    assert.ok(await eventually(() => !isPidAlive(bgPid)));
  });
});
