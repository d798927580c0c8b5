// The money migration on a real database (SQLite, or PostgreSQL when FEDML_TEST_DATABASE_URL is
// set): float dollars stored by earlier versions become whole micro-dollars, rounded.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { sql } from "kysely";
import { migrateToLatest } from "../src/store/migrations.js";
import { dropDatabaseFor, openTestStore } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

const tmp = tempDir("money");
after(async () => {
  await dropDatabaseFor(tmp.dir);
  tmp.cleanup();
});

test("prices, balances and ledger entries in float dollars become whole micro-dollars", async () => {
  const store = await openTestStore(tmp.dir);
  try {
    await migrateToLatest(store.db, store.dialect, "0104_h-liveness_reservations");
    const db = store.db;
    await sql`insert into users (name, is_admin, created_at, credit_balance, card_bound) values ('ann', 0, 1, 12.3456789, 1)`.execute(
      db,
    );
    await sql`insert into devices (owner_id, name, token_hash, hostname, os_type, os_version, cpu_count, memory_bytes, gpus_json,
      address, provider, region, price_per_gpu_hour, shared, simulated, max_jobs, agent_version, status, version, removed, created_at)
      values (1, 'd', 'h', 'd', 'Linux', '6', 1, 1, '[]', '', 'p', 'r', 1.1, 1, 1, 1, '0', 'IDLE', 1, 0, 1)`.execute(db);
    await sql`insert into projects (owner_id, name, created_at) values (1, 'default', 1)`.execute(db);
    await sql`insert into runs (owner_id, project_id, name, status, job_type, platform, yaml_text, spec_json, created_at, stop_requested)
      values (1, 1, 'r', 'FINISHED', 'train', 'falcon', '', '{}', 1, 0)`.execute(db);
    await sql`insert into run_devices (run_id, device_id, rank, node_index, status, gpu_indices_json, log_count, price_per_gpu_hour, stop_requested)
      values (1, 1, 1, 0, 'FINISHED', '[0]', 0, 0.3, 0)`.execute(db);
    await sql`insert into credit_ledger (user_id, amount, kind, note, created_at) values (1, -0.1, 'charge', 'n', 1)`.execute(db);

    await migrateToLatest(db, store.dialect);
    const one = async (q: ReturnType<typeof sql>) => Object.values((await q.execute(db)).rows[0] as object).map(Number);
    assert.deepEqual(await one(sql`select credit_balance_micros from users`), [12_345_679]);
    assert.deepEqual(await one(sql`select price_per_gpu_hour_micros from devices`), [1_100_000]);
    assert.deepEqual(await one(sql`select price_per_gpu_hour_micros from run_devices`), [300_000]);
    assert.deepEqual(await one(sql`select amount_micros from credit_ledger`), [-100_000]);
  } finally {
    await store.close();
  }
});
