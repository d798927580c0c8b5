/**
 * A database that stops taking writes must not take the server down: requests that write
 * fail with code 29 and a one-line reason, the fault is logged, reads and health go on, and
 * writes work again once the database does. On PostgreSQL the database is switched to
 * read-only (default_transaction_read_only); on SQLite its disk fills up (a small tmpfs, where
 * mounting is allowed), and its files are made immutable under the server (chattr +i, which
 * even root cannot write through).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import pg from "pg";
import { databaseUrlFor, onPostgres } from "../packages/server/test/support/database.js";
import { type ServerProcess, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("storage-faults");
let server: ServerProcess | undefined;
let mounted: string | undefined;
/** Files made immutable by a test: made mutable again before the clean-up removes them. */
const immutable: string[] = [];
after(async () => {
  await server?.stop();
  if (mounted) execFileSync("umount", ["-l", mounted]);
  if (immutable.length > 0) execFileSync("chattr", ["-i", ...immutable]);
  tmp.cleanup();
});

// biome-ignore lint/suspicious/noExplicitAny: tests check the JSON bodies field by field.
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server?.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server?.adminKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

function serverLog(home: string): string {
  return readdirSync(home)
    .filter((f) => f.startsWith("server-") && f.endsWith(".log"))
    .map((f) => readFileSync(join(home, f), "utf8"))
    .join("");
}

/** While the fault lasts: writes answer 29, reads and health answer, the log says why. */
async function assertFaultAnswered(home: string, what: RegExp): Promise<void> {
  const write = await call("POST", "/api/v1/users", { name: "during-fault" });
  assert.equal(write.status, 503, JSON.stringify(write.body));
  assert.equal(write.body.resultCode, 29);
  assert.equal(write.body.resultMsg, "DB_INSERT_ERROR");
  assert.match(write.body.error, what);
  assert.doesNotMatch(write.body.error, /\n/);
  const t0 = performance.now();
  assert.equal((await call("GET", "/api/v1/health")).status, 200);
  assert.ok(performance.now() - t0 < 1000);
  const read = await call("GET", "/api/v1/users");
  assert.equal(read.status, 200);
  assert.ok(read.body.userList.some((u: { name: string }) => u.name === "before-fault"));
  await waitFor("the storage fault in the server's log", () => /"msg":"storage fault"/.test(serverLog(home)));
  assert.equal(server?.child.exitCode, null, "the server is still running");
}

async function assertRecovered(): Promise<void> {
  const write = await waitFor("writes to work again", async () => {
    const r = await call("POST", "/api/v1/users", { name: "after-fault" });
    return r.status === 200 ? r : undefined;
  });
  assert.equal(write.body.user.name, "after-fault");
}

test(
  "PostgreSQL turned read-only: writes answer 29, the server stays up and recovers",
  { skip: !onPostgres && "runs on PostgreSQL" },
  async () => {
    const home = join(tmp.dir, "pg");
    server = await startServer(home);
    assert.equal((await call("POST", "/api/v1/users", { name: "before-fault" })).status, 200);
    const url = new URL((await databaseUrlFor(home)) as string);
    const name = url.pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.FEDML_TEST_DATABASE_URL });
    await admin.connect();
    // New sessions take the setting: end the server's, its pool opens fresh ones.
    const setReadOnly = async (on: boolean) => {
      await admin.query(`ALTER DATABASE "${name}" SET default_transaction_read_only = ${on ? "on" : "off"}`);
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [
        name,
      ]);
    };
    try {
      await setReadOnly(true);
      // The first request after the cut may meet a dropped connection (also code 29).
      await waitFor("a read-only answer", async () => {
        const r = await call("POST", "/api/v1/users", { name: "probe" });
        return r.status === 503 && /read-only/.test(r.body.error) ? r : undefined;
      });
      await assertFaultAnswered(home, /does not accept writes right now \(the database is in read-only mode\)/);
      await setReadOnly(false);
      await assertRecovered();
    } finally {
      await admin.end();
    }
  },
);

test(
  "SQLite's disk full: writes answer 29, the server stays up and recovers",
  { skip: onPostgres && "runs on SQLite" },
  async (t) => {
    const home = join(tmp.dir, "sqlite");
    const dataDir = join(home, "server");
    mkdirSync(dataDir, { recursive: true });
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dataDir], { stdio: "ignore" });
      mounted = dataDir;
    } catch {
      t.skip("mounting a small tmpfs is not permitted here");
      return;
    }
    server = await startServer(home);
    assert.equal((await call("POST", "/api/v1/users", { name: "before-fault" })).status, 200);
    const filler = join(dataDir, "filler");
    const fd = openSync(filler, "w");
    for (const size of [1 << 20, 4096]) {
      try {
        for (;;) writeSync(fd, Buffer.alloc(size));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, "ENOSPC");
      }
    }
    closeSync(fd);
    await assertFaultAnswered(home, /not available right now \(the disk is full\)/);
    rmSync(filler);
    await assertRecovered();
  },
);

test(
  "SQLite's files made immutable under the running server: writes answer 29, no SIGBUS, it stays up and recovers",
  { skip: onPostgres && "runs on SQLite" },
  async (t) => {
    const home = join(tmp.dir, "sqlite-immutable");
    await server?.stop();
    server = await startServer(home);
    assert.equal((await call("POST", "/api/v1/users", { name: "before-fault" })).status, 200);
    const dataDir = join(home, "server");
    const files = readdirSync(dataDir)
      .filter((f) => f.startsWith("fedml.db"))
      .map((f) => join(dataDir, f));
    // The WAL index is in the server's heap: no memory-mapped -shm file whose fault would be a
    // SIGBUS (as it was: a write to the mapping of an immutable or truncated -shm killed the
    // server with no log line).
    assert.ok(!existsSync(join(dataDir, "fedml.db-shm")), `a -shm file beside the database: ${files.join(", ")}`);
    try {
      execFileSync("chattr", ["+i", ...files], { stdio: "ignore" });
      immutable.push(...files);
    } catch {
      t.skip("chattr +i is not permitted here (needs root on ext4/xfs)");
      return;
    }
    await assertFaultAnswered(home, /not available right now \(SQLITE_IOERR_WRITE\)/);
    execFileSync("chattr", ["-i", ...immutable.splice(0)]);
    await assertRecovered();
  },
);
