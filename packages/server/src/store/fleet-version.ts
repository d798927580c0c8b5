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
 * exactly when nothing else changed the fleet meanwhile. Each bump is also logged with the
 * device it concerns (logFleetChanges), so that a kept copy the version went past reads
 * only those devices again.
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

/**
 * How many versions back the change log reaches (rows older are deleted as it grows, every
 * PRUNE_EVERY versions): a copy kept further back is read afresh.
 */
export const FLEET_LOG_KEEP = 65_536;
const PRUNE_EVERY = 4_096;
/**
 * PostgreSQL: past this many changed rows in one transaction the devices are no longer listed
 * (the list is one growing setting): the commit logs a "read everything" row instead.
 */
const LISTED_PER_COMMIT = 1_000;

/**
 * The change log (fleet_changes): for each version the devices its change concerns, written by
 * the same triggers that count it, so that a copy kept at an older version catches up by
 * reading only those devices (scheduler/fleet-cache.ts). A devices row logs its id; a part its
 * device (a part moved: both); anything else (a cluster, its devices) logs a null device,
 * "read everything". A queue pass on PostgreSQL logs its claimed devices itself under its one
 * bump (bumpFleetVersion), so one version may hold many devices. Every version in the log's
 * range has at least one row: fewer distinct versions than the range is wide means pruned or
 * not listed (a transaction past LISTED_PER_COMMIT), which the reader takes as "read everything".
 *
 * SQLite: the 0110 row triggers are recreated to bump, log and prune in one body. PostgreSQL:
 * the counting trigger appends each row's device to a second transaction-local setting beside
 * the count (no lock, no write), and the deferred bump inserts them under the versions it adds.
 */
export async function logFleetChanges(db: Kysely<unknown>, dialect: "sqlite" | "postgres"): Promise<void> {
  await db.schema
    .createTable("fleet_changes")
    .addColumn("version", "bigint", (c) => c.notNull())
    .addColumn("device_id", "integer")
    .execute();
  await db.schema.createIndex("fleet_changes_version").on("fleet_changes").column("version").execute();
  if (dialect === "postgres") {
    const pending = "coalesce(nullif(current_setting('fedml.fleet_rows', true), ''), '0')::bigint";
    const listed = "coalesce(current_setting('fedml.fleet_devices', true), '')";
    // A token per counted row, comma-separated: a device id, two (a part moved), or '-' (not one device's).
    await sql`${sql.raw(`create or replace function fleet_version_count() returns trigger language plpgsql as $$
      declare
        counted bigint := ${pending} + 1;
        devices text := ${listed};
        token text := '-';
      begin
        if TG_TABLE_NAME = 'devices' then
          if TG_OP = 'DELETE' then token := old.id::text; else token := new.id::text; end if;
        elsif TG_TABLE_NAME = 'run_devices' then
          if TG_OP = 'DELETE' then token := old.device_id::text;
          elsif TG_OP = 'INSERT' or new.device_id is not distinct from old.device_id then token := new.device_id::text;
          else token := old.device_id::text || ' ' || new.device_id::text;
          end if;
        end if;
        perform set_config('fedml.fleet_rows', counted::text, true);
        if counted > ${LISTED_PER_COMMIT} then
          if devices <> '*' then perform set_config('fedml.fleet_devices', '*', true); end if;
        else
          perform set_config('fedml.fleet_devices', case when devices = '' then token else devices || ',' || token end, true);
        end if;
        return null;
      end $$`)}`.execute(db);
    await sql`${sql.raw(`create or replace function fleet_version_bump() returns trigger language plpgsql as $$
      declare
        rows bigint := ${pending};
        devices text := ${listed};
        top bigint;
      begin
        if rows > 0 then
          update placement_inputs set fleet_version = fleet_version + rows where id = 1 returning fleet_version into top;
          if devices = '*' or devices = '' then
            insert into fleet_changes (version, device_id) values (top, null);
          else
            insert into fleet_changes (version, device_id)
              select top - rows + c.n, nullif(d.id, '-')::integer
              from unnest(string_to_array(devices, ',')) with ordinality as c(token, n)
              cross join lateral unnest(string_to_array(c.token, ' ')) as d(id);
          end if;
          if top / ${PRUNE_EVERY} <> (top - rows) / ${PRUNE_EVERY} then
            delete from fleet_changes where version <= top - ${FLEET_LOG_KEEP};
          end if;
          perform set_config('fedml.fleet_rows', '0', true);
          perform set_config('fedml.fleet_devices', '', true);
        end if;
        return null;
      end $$`)}`.execute(db);
    return;
  }
  const at = "from placement_inputs where id = 1";
  const log = (device: string, when = "") =>
    `insert into fleet_changes (version, device_id) select fleet_version, ${device} ${at}${when};`;
  const body = (logs: string) =>
    `update placement_inputs set fleet_version = fleet_version + 1 where id = 1; ${logs} delete from fleet_changes where version <= (select fleet_version - ${FLEET_LOG_KEEP} ${at} and fleet_version % ${PRUNE_EVERY} = 0);`;
  const device: Record<string, { insert: string; delete: string; change: string }> = {
    devices: { insert: log("new.id"), delete: log("old.id"), change: log("new.id") },
    run_devices: {
      insert: log("new.device_id"),
      delete: log("old.device_id"),
      change: `${log("new.device_id")} ${log("old.device_id", " and new.device_id is not old.device_id")}`,
    },
    clusters: { insert: log("null"), delete: log("null"), change: log("null") },
    cluster_devices: { insert: log("null"), delete: log("null"), change: log("null") },
  };
  for (const [table, when] of Object.entries(changeConditions("is not"))) {
    const logs = device[table];
    for (const event of ["insert", "delete", "change"] as const) {
      const name = `${table}_fleet_version_${event}`;
      await sql`${sql.raw(`drop trigger ${name}`)}`.execute(db);
      const on = event === "change" ? "update" : event;
      const condition = event === "change" && when ? `when ${when} ` : "";
      await sql`${sql.raw(`create trigger ${name} after ${on} on ${table} for each row ${condition}begin ${body(logs[event])} end`)}`.execute(
        db,
      );
    }
  }
}

/**
 * The log's rows in (after, upTo]: the devices they name, or null when a change there is
 * not one device's, or the log does not hold every version of the range (pruned, or not listed).
 */
export async function readFleetChanges(db: Kysely<Database>, after: number, upTo: number): Promise<Set<number> | null> {
  const { rows } = await sql<{ version: number | string; device_id: number | null }>`
    select version, device_id from fleet_changes where version > ${after} and version <= ${upTo}`.execute(db);
  const versions = new Set<number>();
  const devices = new Set<number>();
  for (const row of rows) {
    if (row.device_id === null) return null;
    versions.add(Number(row.version));
    devices.add(row.device_id);
  }
  return versions.size === upTo - after ? devices : null;
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
 * claims queued no trigger events, so it bumps once and logs the devices it placed on under
 * that version; null: too many for a kept copy to catch up on, "read everything" instead
 * (one row, where thousands cost a big pass about 14 ms). (On SQLite its rows bumped and
 * logged already.)
 */
export async function bumpFleetVersion(db: Kysely<Database>, deviceIds: ReadonlySet<number> | null): Promise<void> {
  if (deviceIds === null) {
    await sql`
      with bumped as (update placement_inputs set fleet_version = fleet_version + 1 where id = 1 returning fleet_version)
      insert into fleet_changes (version, device_id) select fleet_version, null from bumped`.execute(db);
    return;
  }
  const ids = [...deviceIds];
  await sql`
    with bumped as (update placement_inputs set fleet_version = fleet_version + 1 where id = 1 returning fleet_version)
    insert into fleet_changes (version, device_id)
    select bumped.fleet_version, device.id from bumped, unnest(${ids}::integer[]) as device(id)`.execute(db);
}
