// The client's side of workspaces, end to end: an interrupted upload resumes where the
// server's committed chunks end; an unchanged workspace is neither packed nor sent again;
// on a terminal the CLI shows packing and upload progress with bytes and speed.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { api } from "fedml";
import { packOrReuse } from "../packages/fedml/src/workspace/pack-cache.js";
import { uploadWorkspace } from "../packages/fedml/src/workspace/upload.js";
import { writeJob } from "./support/jobs.js";
import { cliBin } from "./support/paths.js";
import { type AgentProcess, type ServerProcess, startServerWithAgent } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const execFileAsync = promisify(execFile);
const MiB = 1024 * 1024;
const tmp = makeTempDir("ws-upload");
let server: ServerProcess;
let agent: AgentProcess;
let user: { serverUrl: string; apiKey: string };

before(async () => {
  ({
    server,
    agent,
    callers: [user],
  } = await startServerWithAgent(tmp.dir, { users: ["uploader"], agentArgs: ["--name", "upload-box"] }));
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  tmp.cleanup();
});

/** A job whose workspace holds `bytes` of incompressible data, dated a minute back. */
function bigJob(name: string, bytes: number): { yaml: string; ws: string } {
  const yaml = writeJob(tmp.dir, name, "workspace: ws\njob: |\n  wc -c < big.bin\n", {});
  const ws = join(tmp.dir, name, "ws");
  writeFileSync(join(ws, "big.bin"), randomBytes(bytes));
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(ws, "big.bin"), old, old);
  return { yaml, ws };
}

async function uploadState(sha: string) {
  const res = await fetch(`${server.url}/api/v1/workspaces/${sha}/upload`, {
    headers: { authorization: `Bearer ${user.apiKey}` },
  });
  return (await res.json()) as { receivedBytes: number; complete: boolean };
}

describe("workspace upload from the client", () => {
  test("an interrupted upload resumes from the server's committed bytes; the run gets the whole workspace", async () => {
    const { yaml, ws } = bigJob("resume", 6 * MiB);
    const archive = await packOrReuse(ws, process.env.FEDML_HOME as string, 100 * MiB);
    const stop = new AbortController();
    await assert.rejects(
      uploadWorkspace(user, archive, {
        signal: stop.signal,
        onProgress: (p) => {
          if (p.bytes > 4 * MiB) stop.abort();
        },
      }),
    );
    // Settled: the same count twice, a quarter second apart (the cut request drains first).
    let previous = -1;
    const kept = await waitFor(
      "the server to commit what arrived",
      async () => {
        const { receivedBytes } = await uploadState(archive.sha256);
        const settled = receivedBytes >= MiB && receivedBytes === previous;
        previous = receivedBytes;
        return settled ? receivedBytes : undefined;
      },
      10_000,
      250,
    );
    assert.equal(kept % MiB, 0, "whole chunks only");
    const resumed = await uploadWorkspace(user, archive);
    assert.equal(resumed.present, false);
    assert.ok(resumed.from >= MiB, `resumed at ${resumed.from}`);
    assert.equal(resumed.sent, archive.size - resumed.from, "only the rest was sent");
    assert.equal((await uploadState(archive.sha256)).complete, true);

    // The launch reuses the archive (nothing packed) and the blob (nothing sent); the agent unpacks all of it.
    const seen: string[] = [];
    const launched = await api.launchJob(yaml, {
      ...user,
      onProgress: (p) =>
        seen.push(
          p.kind === "packed" ? `packed reused=${p.reused}` : p.kind === "uploaded" ? `uploaded present=${p.present}` : p.kind,
        ),
    });
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    assert.deepEqual(seen, ["packed reused=true", "uploaded present=true"]);
    const lines: string[] = [];
    const status = await api.followRunLogs(launched.runId as string, (l) => lines.push(l), user);
    assert.equal(status, "FINISHED");
    assert.deepEqual(lines, [String(6 * MiB)]);
  });

  test("on a terminal, fedml launch shows packing and upload with bytes and speed, and says when nothing needs doing", async () => {
    const { yaml } = bigJob("tty", 3 * MiB);
    const env = { ...process.env, FEDML_SERVER_URL: server.url, FEDML_API_KEY: user.apiKey };
    // script(1) gives the CLI a pseudo-terminal for stdout.
    const launch = async () =>
      (await execFileAsync("script", ["-qec", `${process.execPath} ${cliBin} launch ${yaml}`, "/dev/null"], { env })).stdout;
    const first = await launch();
    assert.match(first, /packing {3}\[#+\] 3\.0 MB \/ 3\.0 MB {2}[\d.]+ MB\/s/);
    assert.match(first, /packed the workspace: 3\.0 MB in [\d.]+ s/);
    assert.match(first, /uploading \[[#.]+\] [\d.]+ MB \/ 3\.0 MB {2}[\d.]+ MB\/s/);
    assert.match(first, /uploaded the workspace: 3\.0 MB in [\d.]+ s, [\d.]+ MB\/s/);
    assert.match(first, new RegExp(`${3 * MiB}`));
    const second = await launch();
    assert.match(second, /workspace unchanged since the last launch: reusing its archive \(3\.0 MB\)/);
    assert.match(second, /the server has this workspace already: nothing to upload/);
    assert.doesNotMatch(second, /packing|uploading/);
    // Not a terminal: no progress at all.
    const piped = await execFileAsync(process.execPath, [cliBin, "launch", yaml], { env });
    assert.doesNotMatch(piped.stdout, /packing|uploading|packed|uploaded|workspace unchanged/);
  });
});
