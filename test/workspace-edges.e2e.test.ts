// Workspace edge cases, end to end: packed by the SDK, stored by a real server, fetched and
// unpacked by a real agent, run by bash. Each one runs as its user would expect.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, startServerWithAgent } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("ws-edges");
let server: ServerProcess;
let agent: AgentProcess;
let user: { serverUrl: string; apiKey: string };

before(async () => {
  ({
    server,
    agent,
    callers: [user],
  } = await startServerWithAgent(tmp.dir, { users: ["edgy"], agentArgs: ["--name", "edge-box", "--max-jobs", "4"] }));
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  tmp.cleanup();
});

/** Launches, waits for the end, answers the final status, exit code, reason and every log line. */
async function runToEnd(path: string) {
  const launched = await api.launchJob(path, user);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  const runId = launched.runId as string;
  const run = await waitFor(
    `run ${runId} to end`,
    async () => {
      const { status, runList } = await api.runStatus(null, runId, user);
      return status && ["FINISHED", "FAILED", "KILLED"].includes(status) ? runList.runList[0] : undefined;
    },
    30_000,
    100,
  );
  const lines = (await api.runLogs(runId, 1, 100, { needAllLogs: true, ...user })).logLineList;
  return { status: run.status, reason: run.reason || null, lines };
}

describe("workspace edge cases through a real agent", () => {
  test("an empty folder: the job runs in an empty working folder", async () => {
    const path = writeJob(tmp.dir, "empty", 'workspace: ws\njob: |\n  echo "files: $(ls -A | wc -l)"\n');
    assert.deepEqual(await runToEnd(path), { status: "FINISHED", reason: null, lines: ["files: 0"] });
  });

  test("a folder whose files are all ignored: packed as empty, runs", async () => {
    const path = writeJob(tmp.dir, "ignored", 'workspace: ws\njob: |\n  echo "files: $(ls -A | wc -l)"\n', {
      ".gitignore": "*\n",
      "big.bin": "not shipped\n",
      "sub/also.txt": "not shipped\n",
    });
    // `*` ignores the .gitignore itself too, as git would.
    assert.deepEqual(await runToEnd(path), { status: "FINISHED", reason: null, lines: ["files: 0"] });
  });

  test("no workspace key: nothing is packed, the job runs in an empty folder", async () => {
    const path = writeJob(tmp.dir, "nokey", 'job: |\n  echo "in $(basename "$PWD") with $(ls -A | wc -l) files"\n');
    assert.deepEqual(await runToEnd(path), { status: "FINISHED", reason: null, lines: ["in workspace with 0 files"] });
  });

  test("a very deep tree, names with spaces and non-ASCII, executable bits and an inner symlink", async () => {
    const deep = Array.from({ length: 60 }, (_, i) => `d${i}`).join("/");
    const path = writeJob(
      tmp.dir,
      "odd",
      [
        "workspace: ws",
        "job: |",
        `  cat "${deep}/leaf.txt"`,
        '  cat "with space/ünïcödé 文件.txt"',
        "  ./run.sh",
        '  test -x run.sh && echo "run.sh is executable"',
        '  test ! -x data.txt && echo "data.txt is not"',
        '  cat "link to data"',
        "",
      ].join("\n"),
      {
        [`${deep}/leaf.txt`]: "deep leaf\n",
        "with space/ünïcödé 文件.txt": "odd name ok\n",
        "run.sh": "#!/bin/sh\necho script ran\n",
        "data.txt": "plain data\n",
      },
    );
    const ws = join(tmp.dir, "odd", "ws");
    chmodSync(join(ws, "run.sh"), 0o755);
    chmodSync(join(ws, "data.txt"), 0o644);
    symlinkSync("data.txt", join(ws, "link to data"));
    assert.deepEqual(await runToEnd(path), {
      status: "FINISHED",
      reason: null,
      lines: ["deep leaf", "odd name ok", "script ran", "run.sh is executable", "data.txt is not", "plain data"],
    });
  });

  test("symlink loops are refused before anything is uploaded", async () => {
    const path = writeJob(tmp.dir, "loops", "workspace: ws\njob: echo never\n", { "ok.txt": "fine\n" });
    const ws = join(tmp.dir, "loops", "ws");
    mkdirSync(join(ws, "sub"));
    symlinkSync("..", join(ws, "sub", "up"));
    const up = await api.launchJob(path, user);
    assert.equal(up.resultCode, 11);
    assert.match(up.resultMsg, /symlink 'sub\/up' points to a folder that holds it/);
    const path2 = writeJob(tmp.dir, "loops2", "workspace: ws\njob: echo never\n", { "ok.txt": "fine\n" });
    const ws2 = join(tmp.dir, "loops2", "ws");
    symlinkSync("b", join(ws2, "a"));
    symlinkSync("a", join(ws2, "b"));
    const cycle = await api.launchJob(path2, user);
    assert.equal(cycle.resultCode, 11);
    assert.match(cycle.resultMsg, /symlink 'a' is part of a loop \(a -> b -> a\)/);
    writeFileSync(join(ws2, "unrelated.txt"), "x\n");
  });
});
