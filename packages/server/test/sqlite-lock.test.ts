// SQLite is the one-process embedded default: a second server process on the same database
// file refuses to start with one line naming the first; a lock left by a crash is taken over.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildServer } from "../src/app.js";
import { tempDir } from "./support/tmp.js";

const serverBin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const tmp = tempDir("sqlite-lock");
after(() => tmp.cleanup());

test("a second server process on the same SQLite file exits 1 with one line naming the first", async () => {
  const home = join(tmp.dir, "a");
  const first = await buildServer({ home, port: 0, logLevel: "silent" });
  const lockFile = join(home, "server", "fedml.db.lock");
  try {
    assert.equal(readFileSync(lockFile, "utf8").trim(), String(process.pid));
    const second = spawnSync(process.execPath, [serverBin, "--home", home, "--port", "0"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(second.status, 1);
    assert.equal(
      second.stderr,
      `fedml-server: the SQLite database ${join(home, "server", "fedml.db")} is in use by server process ${process.pid}: SQLite serves one server process; stop that one, or run several on PostgreSQL (--database-url)\n`,
    );
  } finally {
    await first.close();
  }
  assert.equal(existsSync(lockFile), false);
});

test("the lock of a server killed with SIGKILL does not stop the next one", async () => {
  const home = join(tmp.dir, "b");
  const lockFile = join(home, "server", "fedml.db.lock");
  const child = spawn(process.execPath, [serverBin, "--home", home, "--port", "0"], { stdio: "ignore" });
  const deadline = Date.now() + 20_000;
  while (!existsSync(join(home, "server", "admin-key"))) {
    assert.ok(Date.now() < deadline, "the first server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(readFileSync(lockFile, "utf8").trim(), String(child.pid));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  const next = await buildServer({ home, port: 0, logLevel: "silent" });
  assert.equal(readFileSync(lockFile, "utf8").trim(), String(process.pid));
  await next.close();
});
