import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { tempDir } from "./support/tmp.js";

const binPath = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
// Re-use this process's loaders (tsx) so the child runs the TypeScript source.
const loaderArgs = process.execArgv.flatMap((arg, i, all) =>
  arg === "--import" ? [arg, all[i + 1]] : arg.startsWith("--import=") ? [arg] : [],
);

const tmp = tempDir("bin");
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  tmp.cleanup();
});

async function startBin(): Promise<{ child: ChildProcess; record: { url: string; port: number; pid: number | null } }> {
  const record = join(tmp.dir, "server", "server.json");
  const before = existsSync(record) ? readFileSync(record, "utf8") : "";
  const child = spawn(process.execPath, [...loaderArgs, binPath, "--home", tmp.dir, "--port", "auto", "--log-level", "warn"], {
    stdio: "ignore",
  });
  children.push(child);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const text = existsSync(record) ? readFileSync(record, "utf8") : "";
    if (text && text !== before) {
      const parsed = JSON.parse(text);
      if (parsed.pid === child.pid) return { child, record: parsed };
    }
    if (Date.now() > deadline) throw new Error("server.json never appeared");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("the bin records where it listens, keeps the port across restarts, and clears the pid on SIGTERM", async () => {
  const first = await startBin();
  assert.ok(first.record.port > 0);
  assert.equal(statSync(join(tmp.dir, "server", "server.json")).mode & 0o777, 0o600);
  assert.equal(statSync(join(tmp.dir, "server", "admin-key")).mode & 0o777, 0o600);
  const health = await fetch(`${first.record.url}/api/v1/health`);
  assert.equal(health.status, 200);
  const exited = new Promise((r) => first.child.once("exit", r));
  first.child.kill("SIGTERM");
  await exited;
  const stopped = JSON.parse(readFileSync(join(tmp.dir, "server", "server.json"), "utf8"));
  assert.equal(stopped.pid, null);
  assert.equal(stopped.port, first.record.port);

  const second = await startBin();
  assert.equal(second.record.port, first.record.port);
  const done = new Promise((r) => second.child.once("exit", r));
  second.child.kill("SIGTERM");
  await done;
});
