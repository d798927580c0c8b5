import assert from "node:assert/strict";
import { test } from "node:test";
import { ConnectionQueue } from "../src/store/connection-queue.js";
import { openSqlite } from "../src/store/db.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";

test("connection queue: one holder at a time, waiters served in the order they asked", async () => {
  const queue = new ConnectionQueue();
  const order: number[] = [];
  let holders = 0;
  await Promise.all(
    Array.from({ length: 3000 }, async (_, i) => {
      await queue.acquire();
      holders++;
      assert.equal(holders, 1, "two holders at once");
      order.push(i);
      await Promise.resolve();
      holders--;
      queue.release();
    }),
  );
  assert.deepEqual(
    order,
    Array.from({ length: 3000 }, (_, i) => i),
  );
  assert.equal(queue.waiting, 0);
});

test("connection queue: SQLite queries asked for together behind a transaction all complete, in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fedml-connq-"));
  const store = openSqlite(join(dir, "db.sqlite"));
  try {
    const seen: number[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const trx = store.db.transaction().execute(async (t) => {
      await sql`select 1`.execute(t);
      await held;
    });
    // Queued while the transaction holds the one connection.
    const queries = Array.from({ length: 2000 }, (_, i) =>
      sql<{ n: number }>`select ${i} as n`.execute(store.db).then((r) => seen.push(r.rows[0].n)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.length, 0, "a query ran inside another's transaction");
    release();
    await trx;
    await Promise.all(queries);
    assert.deepEqual(
      seen,
      Array.from({ length: 2000 }, (_, i) => i),
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
