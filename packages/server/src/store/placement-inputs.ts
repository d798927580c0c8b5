/**
 * A change marker over everything a queue pass reads: one row whose version the database
 * itself bumps (triggers) whenever a write can let a pass place what it could not before. A
 * pass that placed nothing remembers the version it read (scheduler/quiet-pass.ts); while
 * the version stays the same, the next pass would decide the same and is skipped, so a full
 * fleet costs one read of one row a tick instead of a read of the fleet and the queue.
 *
 * Triggers rather than bumps in the code paths that write: a write the code forgets, or one
 * made straight in the database (an operator's fix, the bench), still counts. The columns
 * watched are those a pass reads:
 *   runs        a run added or removed; its status, owner, priority, age, kind, spec, pin or
 *               cluster changed (a stop, a retry, a cluster's runs queued) - not its reason
 *               (a pass writes that) nor placed_at (the turn order only)
 *   run_devices a part added or removed; its status, run, device, GPUs, price or stop
 *               flag changed - not its log counters or billing times
 *   devices     a device added or removed; anything of it the matcher reads changed - not
 *               last_seen_at (heartbeats: the pass checks the devices it found silent
 *               itself) nor version (a pass bumps it)
 *   clusters, cluster_devices   reservations made, changed or let go
 *   reservations                a hold made or changed (ended, payer, price)
 *   users       a balance that grew, a card bound (a balance that shrinks places nothing)
 *
 * A queue pass's own writes need no bump: its claims only take capacity, and a pass that
 * placed runs is followed by another anyway (queue-loop.ts). On PostgreSQL the pass says so
 * (readPlacementInputsInPass) and its thousands of claimed runs and parts queue no trigger
 * events; on SQLite they bump the row, which costs little in-process.
 *
 * PostgreSQL: constraint triggers deferred to the commit, and one bump a transaction, so the
 * row is locked for the commit only, after the transaction's other writes: no transaction
 * waits on it while holding other rows (no deadlock with heartbeats). SQLite has one writer
 * at a time: plain row triggers.
 *
 * A later migration that drops or renames a watched column must drop and recreate its
 * table's triggers (both databases refuse to drop a column a trigger reads).
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";
import { isPostgres } from "./transaction.js";

/** Per table: the columns whose change counts (null: any insert, update or delete counts). */
const WATCHED: Record<string, readonly string[] | null> = {
  runs: ["status", "owner_id", "priority", "created_at", "job_type", "spec_json", "resource_id", "cluster_id"],
  run_devices: ["status", "run_id", "device_id", "gpu_indices_json", "price_per_gpu_hour_micros", "stop_requested"],
  devices: [
    "status",
    "removed",
    "name",
    "owner_id",
    "shared",
    "gpus_json",
    "max_jobs",
    "price_per_gpu_hour_micros",
    "provider",
    "region",
    "simulated",
    "container_runtime",
  ],
  clusters: ["state", "owner_id"],
  cluster_devices: null,
  reservations: ["ended_at", "payer_id", "cluster_id", "device_id", "price_per_gpu_hour_micros", "gpu_count"],
};

/** PostgreSQL: a write of a queue pass's transaction (readPlacementInputsInPass) queues no event. */
const NOT_IN_PASS = "current_setting('fedml.placement_pass', true) is distinct from 'on'";

/** users: only what can let a run through the credit check. */
const USERS_WHEN = {
  postgres: "new.credit_balance_micros > old.credit_balance_micros or new.card_bound is distinct from old.card_bound",
  sqlite: "new.credit_balance_micros > old.credit_balance_micros or new.card_bound is not old.card_bound",
};

export async function createPlacementInputs(db: Kysely<unknown>, dialect: "sqlite" | "postgres"): Promise<void> {
  await db.schema
    .createTable("placement_inputs")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("version", "bigint", (c) => c.notNull())
    .execute();
  await sql`insert into placement_inputs (id, version) values (1, 0)`.execute(db);
  const tables = Object.entries(WATCHED);
  if (dialect === "postgres") {
    // The transaction-local setting makes the rest of a transaction's triggers skip the update.
    await sql`
      create function placement_inputs_bump() returns trigger language plpgsql as $$
      begin
        if current_setting('fedml.placement_inputs_bumped', true) is distinct from 'on' then
          update placement_inputs set version = version + 1 where id = 1;
          perform set_config('fedml.placement_inputs_bumped', 'on', true);
        end if;
        return null;
      end $$`.execute(db);
    const trigger = async (name: string, table: string, events: string, when: string | null) =>
      sql`${sql.raw(`create constraint trigger ${name} after ${events} on ${table} deferrable initially deferred for each row when (${NOT_IN_PASS}${when ? ` and (${when})` : ""}) execute function placement_inputs_bump()`)}`.execute(
        db,
      );
    for (const [table, columns] of tables) {
      await trigger(`${table}_placement_inputs_add`, table, "insert or delete", null);
      await trigger(
        `${table}_placement_inputs_change`,
        table,
        "update",
        columns ? columns.map((c) => `new.${c} is distinct from old.${c}`).join(" or ") : null,
      );
    }
    await trigger("users_placement_inputs_change", "users", "update", USERS_WHEN.postgres);
    return;
  }
  const bump = "update placement_inputs set version = version + 1 where id = 1;";
  const trigger = async (name: string, table: string, event: string, when: string | null) =>
    sql`${sql.raw(`create trigger ${name} after ${event} on ${table} for each row ${when ? `when ${when} ` : ""}begin ${bump} end`)}`.execute(
      db,
    );
  for (const [table, columns] of tables) {
    await trigger(`${table}_placement_inputs_insert`, table, "insert", null);
    await trigger(`${table}_placement_inputs_delete`, table, "delete", null);
    await trigger(
      `${table}_placement_inputs_change`,
      table,
      "update",
      columns ? columns.map((c) => `new.${c} is not old.${c}`).join(" or ") : null,
    );
  }
  await trigger("users_placement_inputs_change", "users", "update", USERS_WHEN.sqlite);
}

/**
 * The marker's version, read by a queue pass first thing in its transaction (what it reads
 * after is at least as new); on PostgreSQL it also marks the transaction as the pass's, whose
 * writes then bump nothing.
 */
export async function readPlacementInputsInPass(db: Kysely<Database>): Promise<number> {
  if (!isPostgres(db)) return readPlacementInputs(db);
  const { rows } = await sql<{ version: string }>`
    select version, set_config('fedml.placement_pass', 'on', true) as marked from placement_inputs where id = 1`.execute(db);
  return Number(rows[0]?.version ?? 0);
}

/** The marker's version as this transaction (or statement) sees it. */
export async function readPlacementInputs(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ version: number | string }>`select version from placement_inputs where id = 1`.execute(db);
  return Number(rows[0]?.version ?? 0);
}
