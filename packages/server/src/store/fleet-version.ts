/**
 * A version of the fleet as placement sees it: the live devices (what the matcher reads of
 * them), where the GPUs of every live part are, and the clusters' reservations. A placement
 * that finds the version it kept the fleet at (scheduler/fleet-cache.ts) matches against that
 * copy instead of reading 10,000 device rows again.
 *
 * The database bumps it, by one for each row written that changes what placement reads:
 *   devices          added or removed; a column the matcher reads changed; going to or back
 *                    from OFFLINE - not last_seen_at (the cache checks silence itself), nor
 *                    version, nor a status change between two online statuses
 *   run_devices      added or removed; moved to another device or GPUs; ended (or revived) -
 *                    not a status change between two live statuses, nor its counters
 *   clusters         added, removed, or its state changed; cluster_devices any write
 * One bump per row, not per transaction, so that a placement can tell its own writes from
 * everyone else's: after committing k parts it finds the version it started from plus k
 * exactly when nothing else changed the fleet meanwhile.
 *
 * It lives beside placement_inputs' version, in the same row, so that the two markers take
 * one row lock between them. PostgreSQL: each changed row is counted at once (a plain row
 * trigger adding to a transaction-local setting, no lock), and deferred constraint triggers
 * add the count to the version at commit, once, after the transaction's other writes, as
 * placement_inputs does (no deadlock with rows the transaction holds; migration 0111 - 0110
 * updated the row once per changed row, and 10,000 updates of one row in one transaction
 * walk an ever longer chain of its versions). A queue pass (it marks itself, see
 * placement-inputs.ts) counts nothing for its thousands of claims; it bumps the version once
 * itself (bumpFleetVersion). SQLite: plain row triggers (a row is updated in place).
 *
 * The columns and statuses are frozen here as the migration created them: a later change
 * to what placement reads needs a migration that recreates the triggers.
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";

const DEVICE_COLUMNS = [
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
  "removed",
] as const;

/** Statuses a part has once ended (core's TERMINAL_EDGE_STATUSES when this was written). */
const ENDED_PART = "('KILLED', 'FAILED', 'EXCEPTION', 'FINISHED')";

/** The update of each table that counts, in SQL over `old` and `new` (`differ` is each dialect's null-safe "not equal"). */
function changeConditions(differ: string): Record<string, string | null> {
  const changed = (column: string) => `new.${column} ${differ} old.${column}`;
  return {
    devices: [...DEVICE_COLUMNS.map(changed), `(new.status = 'OFFLINE') ${differ} (old.status = 'OFFLINE')`].join(" or "),
    run_devices: [
      changed("device_id"),
      changed("gpu_indices_json"),
      `(new.status in ${ENDED_PART}) ${differ} (old.status in ${ENDED_PART})`,
    ].join(" or "),
    clusters: changed("state"),
    cluster_devices: null,
  };
}

/** PostgreSQL: a write of a queue pass's transaction queues no event (the pass bumps once). */
const NOT_IN_PASS = "current_setting('fedml.placement_pass', true) is distinct from 'on'";

export async function createFleetVersion(db: Kysely<unknown>, dialect: "sqlite" | "postgres"): Promise<void> {
  await db.schema
    .alterTable("placement_inputs")
    .addColumn("fleet_version", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  const bump = "update placement_inputs set fleet_version = fleet_version + 1 where id = 1;";
  if (dialect === "postgres") {
    await sql`${sql.raw(`create function fleet_version_bump() returns trigger language plpgsql as $$ begin ${bump} return null; end $$`)}`.execute(
      db,
    );
    const trigger = (name: string, table: string, events: string, when: string | null) =>
      sql`${sql.raw(`create constraint trigger ${name} after ${events} on ${table} deferrable initially deferred for each row when (${NOT_IN_PASS}${when ? ` and (${when})` : ""}) execute function fleet_version_bump()`)}`.execute(
        db,
      );
    for (const [table, when] of Object.entries(changeConditions("is distinct from"))) {
      await trigger(`${table}_fleet_version_add`, table, "insert or delete", null);
      await trigger(`${table}_fleet_version_change`, table, "update", when);
    }
    return;
  }
  const trigger = (name: string, table: string, event: string, when: string | null) =>
    sql`${sql.raw(`create trigger ${name} after ${event} on ${table} for each row ${when ? `when ${when} ` : ""}begin ${bump} end`)}`.execute(
      db,
    );
  for (const [table, when] of Object.entries(changeConditions("is not"))) {
    await trigger(`${table}_fleet_version_insert`, table, "insert", null);
    await trigger(`${table}_fleet_version_delete`, table, "delete", null);
    await trigger(`${table}_fleet_version_change`, table, "update", when);
  }
}

/**
 * PostgreSQL: the changed rows counted as they are written, and added to the version once at
 * commit (see the file's comment). SQLite keeps its row triggers.
 */
export async function countFleetRowsOnce(db: Kysely<unknown>, dialect: "sqlite" | "postgres"): Promise<void> {
  if (dialect !== "postgres") return;
  const pending = "coalesce(nullif(current_setting('fedml.fleet_rows', true), ''), '0')::bigint";
  await sql`${sql.raw(`create function fleet_version_count() returns trigger language plpgsql as $$
    begin
      perform set_config('fedml.fleet_rows', (${pending} + 1)::text, true);
      return null;
    end $$`)}`.execute(db);
  // The deferred triggers of 0110 call this: the first to fire at commit adds every row counted.
  await sql`${sql.raw(`create or replace function fleet_version_bump() returns trigger language plpgsql as $$
    declare rows bigint := ${pending};
    begin
      if rows > 0 then
        update placement_inputs set fleet_version = fleet_version + rows where id = 1;
        perform set_config('fedml.fleet_rows', '0', true);
      end if;
      return null;
    end $$`)}`.execute(db);
  const trigger = (name: string, table: string, events: string, when: string | null) =>
    sql`${sql.raw(`create trigger ${name} after ${events} on ${table} for each row when (${NOT_IN_PASS}${when ? ` and (${when})` : ""}) execute function fleet_version_count()`)}`.execute(
      db,
    );
  for (const [table, when] of Object.entries(changeConditions("is distinct from"))) {
    await trigger(`${table}_fleet_version_count_add`, table, "insert or delete", null);
    await trigger(`${table}_fleet_version_count_change`, table, "update", when);
  }
}

/** The fleet's version as this transaction (or statement) sees it. */
export async function readFleetVersion(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ fleet_version: number | string }>`select fleet_version from placement_inputs where id = 1`.execute(
    db,
  );
  return Number(rows[0]?.fleet_version ?? 0);
}

/**
 * A queue pass that placed runs on PostgreSQL, as its transaction's last statement: its
 * claims queued no trigger events. (On SQLite its rows bumped the version already.)
 */
export async function bumpFleetVersion(db: Kysely<Database>): Promise<void> {
  await sql`update placement_inputs set fleet_version = fleet_version + 1 where id = 1`.execute(db);
}
