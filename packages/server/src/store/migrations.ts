import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import type { DialectName } from "./db.js";
import { idColumn } from "./id-column.js";
import { endpointReplicas } from "./serving-migration.js";
import { endpointTargetRps, wireObjects } from "./wire-migration.js";
import { workspaceObjects } from "./workspace-objects-migration.js";
import { countFleetRowsOnce, createFleetVersion, logFleetChanges } from "./fleet-version.js";
import { createPlacementInputs } from "./placement-inputs.js";

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>;

function initialSchema(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      await idColumn(db.schema.createTable("users"), dialect)
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await idColumn(db.schema.createTable("api_keys"), dialect)
        .addColumn("user_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("key_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await idColumn(db.schema.createTable("projects"), dialect)
        .addColumn("owner_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("projects_owner_name", ["owner_id", "name"])
        .execute();
      await idColumn(db.schema.createTable("devices"), dialect)
        .addColumn("owner_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.unique())
        .addColumn("hostname", "text", (c) => c.notNull())
        .addColumn("os_type", "text", (c) => c.notNull())
        .addColumn("os_version", "text", (c) => c.notNull())
        .addColumn("cpu_count", "integer", (c) => c.notNull())
        .addColumn("memory_bytes", "bigint", (c) => c.notNull())
        .addColumn("gpus_json", "text", (c) => c.notNull())
        .addColumn("gpu_error", "text")
        .addColumn("address", "text", (c) => c.notNull())
        .addColumn("provider", "text", (c) => c.notNull())
        .addColumn("region", "text", (c) => c.notNull())
        .addColumn("price_per_gpu_hour", "double precision", (c) => c.notNull())
        .addColumn("shared", "integer", (c) => c.notNull())
        .addColumn("simulated", "integer", (c) => c.notNull())
        .addColumn("max_jobs", "integer", (c) => c.notNull())
        .addColumn("agent_version", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("last_seen_at", "bigint")
        .addColumn("version", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("removed", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await idColumn(db.schema.createTable("runs"), dialect)
        .addColumn("owner_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("project_id", "integer", (c) => c.notNull().references("projects.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("job_type", "text", (c) => c.notNull())
        .addColumn("platform", "text", (c) => c.notNull())
        .addColumn("yaml_text", "text", (c) => c.notNull())
        .addColumn("spec_json", "text", (c) => c.notNull())
        .addColumn("workspace_sha256", "text")
        .addColumn("resource_id", "text")
        .addColumn("reason", "text")
        .addColumn("exit_code", "integer")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("started_at", "bigint")
        .addColumn("ended_at", "bigint")
        .addColumn("stop_requested", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("runs_owner_created").on("runs").columns(["owner_id", "created_at"]).execute();
      await db.schema.createIndex("runs_status").on("runs").column("status").execute();
      await db.schema
        .createTable("run_devices")
        .addColumn("run_id", "integer", (c) => c.notNull().references("runs.id"))
        .addColumn("device_id", "integer", (c) => c.notNull().references("devices.id"))
        .addColumn("rank", "integer", (c) => c.notNull())
        .addColumn("node_index", "integer", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("gpu_indices_json", "text", (c) => c.notNull())
        .addColumn("exit_code", "integer")
        .addColumn("reason", "text")
        .addColumn("started_at", "bigint")
        .addColumn("ended_at", "bigint")
        .addColumn("log_count", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("price_per_gpu_hour", "double precision", (c) => c.notNull())
        .addColumn("stop_requested", "integer", (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("run_devices_pk", ["run_id", "device_id"])
        .execute();
      await db.schema.createIndex("run_devices_device").on("run_devices").column("device_id").execute();
      let logs = db.schema
        .createTable("log_lines")
        .addColumn("run_id", "integer", (c) => c.notNull())
        .addColumn("device_id", "integer", (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("stream", "text", (c) => c.notNull())
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("log_lines_pk", ["run_id", "device_id", "seq"]);
      // The primary key is the only access path; without a rowid the lines sit in key order.
      if (dialect === "sqlite") logs = logs.modifyEnd(sql`without rowid`);
      await logs.execute();
    },
  };
}

/** Clusters: named device sets reserved for one owner, and the cluster a run was launched on. */
function clusters(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      // Names are unique among an owner's live clusters only (a killed name may be reused),
      // so the rule lives in code, under the placement lock.
      await idColumn(db.schema.createTable("clusters"), dialect)
        .addColumn("owner_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("needs_json", "text", (c) => c.notNull())
        .addColumn("idle_minutes", "double precision", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("idle_from", "bigint", (c) => c.notNull())
        .addColumn("ended_at", "bigint")
        .addColumn("reason", "text")
        .execute();
      await db.schema.createIndex("clusters_owner_name").on("clusters").columns(["owner_id", "name"]).execute();
      await db.schema
        .createTable("cluster_devices")
        .addColumn("cluster_id", "integer", (c) => c.notNull().references("clusters.id"))
        .addColumn("device_id", "integer", (c) => c.notNull().references("devices.id"))
        .addPrimaryKeyConstraint("cluster_devices_pk", ["cluster_id", "device_id"])
        .execute();
      await db.schema.alterTable("runs").addColumn("cluster_id", "integer").execute();
      await db.schema.createIndex("runs_cluster").on("runs").column("cluster_id").execute();
    },
  };
}

/** Serving endpoints of serve / deploy runs. */
function endpointsTable(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      await idColumn(db.schema.createTable("endpoints"), dialect)
        .addColumn("owner_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("run_id", "integer", (c) => c.notNull().references("runs.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("model_name", "text")
        .addColumn("model_version", "text")
        .addColumn("device_id", "integer")
        .addColumn("address", "text")
        .addColumn("port", "integer")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("ready_at", "bigint")
        .addColumn("ended_at", "bigint")
        .execute();
      await db.schema.createIndex("endpoints_run").on("endpoints").column("run_id").execute();
      await db.schema.createIndex("endpoints_owner").on("endpoints").column("owner_id").execute();
    },
  };
}

/** Marketplace: credit, the fair queue's priority, retries after lost devices. */
function marketplace(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .alterTable("users")
        .addColumn("credit_balance", "double precision", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable("users")
        .addColumn("card_bound", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable("runs")
        .addColumn("priority", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable("runs")
        .addColumn("retries_left", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable("runs").addColumn("retry_of", "integer").execute();
      await db.schema.alterTable("runs").addColumn("placed_at", "bigint").execute();
      await db.schema
        .createIndex("runs_queue")
        .on("runs")
        .columns(["status", "owner_id", "priority", "created_at", "id"])
        .execute();
      await idColumn(db.schema.createTable("credit_ledger"), dialect)
        .addColumn("user_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("amount", "double precision", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("run_id", "integer")
        .addColumn("device_id", "integer")
        .addColumn("note", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      // A run part is charged (and its device owner paid) once, whoever settles it.
      await db.schema
        .createIndex("credit_ledger_once")
        .on("credit_ledger")
        .columns(["run_id", "device_id", "kind"])
        .unique()
        .execute();
      await db.schema.createIndex("credit_ledger_user").on("credit_ledger").columns(["user_id", "created_at"]).execute();
    },
  };
}

/**
 * Placement and assignments look up the live parts of a device on every decision; with only
 * the device_id index that scanned every part the device ever ran, which made each poll slower as the device aged.
 */
function livePartsIndex(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.createIndex("run_devices_status_device").on("run_devices").columns(["status", "device_id"]).execute();
    },
  };
}

/**
 * Billing on monotonic time: when a stop was asked for (billing ends there; the server ends a
 * part whose agent never confirms the stop) and the runtime the agent measured on its
 * monotonic clock (billing never exceeds it, whatever the wall clock did).
 */
function partBillingTimes(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable("run_devices").addColumn("stop_requested_at", "bigint").execute();
      await db.schema.alterTable("run_devices").addColumn("runtime_ms", "bigint").execute();
    },
  };
}

/**
 * Workspace blobs in the database, chunked, so that every replica serves every workspace;
 * who may use which blob; log bytes counted per part and per user for quotas.
 */
function workspaceBlobsAndLogQuotas(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      await idColumn(db.schema.createTable("workspace_uploads"), dialect)
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("user_id", "integer", (c) => c.notNull())
        .addColumn("size", "bigint")
        .addColumn("received", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("workspace_uploads_sha_user").on("workspace_uploads").columns(["sha256", "user_id"]).execute();
      let chunks = db.schema
        .createTable("workspace_chunks")
        .addColumn("upload_id", "integer", (c) => c.notNull())
        .addColumn("start_byte", "bigint", (c) => c.notNull())
        .addColumn("length", "integer", (c) => c.notNull())
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("data", dialect === "postgres" ? "bytea" : "blob", (c) => c.notNull())
        .addPrimaryKeyConstraint("workspace_chunks_pk", ["upload_id", "start_byte"]);
      if (dialect === "sqlite") chunks = chunks.modifyEnd(sql`without rowid`);
      await chunks.execute();
      await db.schema
        .createTable("workspace_blobs")
        .addColumn("sha256", "text", (c) => c.primaryKey())
        .addColumn("upload_id", "integer", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("corrupt", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_used_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("workspace_blobs_lru").on("workspace_blobs").columns(["last_used_at", "sha256"]).execute();
      await db.schema
        .createTable("workspace_blob_users")
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("user_id", "integer", (c) => c.notNull())
        .addColumn("last_used_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("workspace_blob_users_pk", ["sha256", "user_id"])
        .execute();
      await db.schema
        .createIndex("workspace_blob_users_user")
        .on("workspace_blob_users")
        .columns(["user_id", "last_used_at"])
        .execute();
      await db.schema.createIndex("runs_workspace").on("runs").column("workspace_sha256").execute();
      await db.schema
        .alterTable("run_devices")
        .addColumn("log_bytes", "bigint", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable("run_devices")
        .addColumn("log_capped", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable("user_log_usage")
        .addColumn("user_id", "integer", (c) => c.primaryKey())
        .addColumn("log_bytes", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}

/**
 * One part per node of a run: a placement applied twice (or half, then again) fails on this
 * instead of handing a gang two node 0s.
 */
function onePartPerNode(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.createIndex("run_devices_run_node").unique().on("run_devices").columns(["run_id", "node_index"]).execute();
    },
  };
}

/** Users an admin can disable, and API keys that can expire. */
function userKeyLifecycle(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .alterTable("users")
        .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable("api_keys").addColumn("expires_at", "bigint").execute();
    },
  };
}

/** Which container runtime (docker, podman) a device has: container jobs are placed only there. */
function deviceContainerRuntime(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable("devices").addColumn("container_runtime", "text").execute();
    },
  };
}

/**
 * Reservations: an active cluster holding another owner's paid device pays for the whole
 * device while it holds it, running or idle, so idle clusters cannot hoard shared devices
 * for free.
 */
function reservations(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      await idColumn(db.schema.createTable("reservations"), dialect)
        .addColumn("cluster_id", "integer", (c) => c.notNull().references("clusters.id"))
        .addColumn("device_id", "integer", (c) => c.notNull().references("devices.id"))
        .addColumn("payer_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("payee_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("price_per_gpu_hour_micros", "bigint", (c) => c.notNull())
        .addColumn("gpu_count", "integer", (c) => c.notNull())
        .addColumn("started_at", "bigint", (c) => c.notNull())
        .addColumn("ended_at", "bigint")
        .execute();
      await db.schema.createIndex("reservations_open").on("reservations").columns(["ended_at", "payer_id"]).execute();
    },
  };
}

/** The money columns that held float dollars, and the integer micro-dollar columns replacing them. */
const MONEY_COLUMNS = [
  ["users", "credit_balance", "credit_balance_micros"],
  ["credit_ledger", "amount", "amount_micros"],
  ["devices", "price_per_gpu_hour", "price_per_gpu_hour_micros"],
  ["run_devices", "price_per_gpu_hour", "price_per_gpu_hour_micros"],
] as const;

/**
 * Money in whole micro-dollars: sums and comparisons become exact (no float tolerances). Each
 * float column is copied, rounded, into a bigint one and dropped; the API still shows dollars.
 */
function moneyInMicros(): Migration {
  return {
    async up(db: AnyDb) {
      for (const [table, from, to] of MONEY_COLUMNS) {
        await db.schema
          .alterTable(table)
          .addColumn(to, "bigint", (c) => c.notNull().defaultTo(0))
          .execute();
        await sql`update ${sql.table(table)} set ${sql.ref(to)} = cast(round(${sql.ref(from)} * 1000000) as bigint)`.execute(db);
        await db.schema.alterTable(table).dropColumn(from).execute();
      }
    },
  };
}

/**
 * A queue pass's reads through indexes: each user's queue head in turn order (priority
 * highest first, then oldest), and when each user was last served (max placed_at per owner).
 */
function queuePassIndexes(): Migration {
  return {
    async up(db) {
      await db.schema
        .createIndex("runs_queue_turn")
        .on("runs")
        .columns(["status", "owner_id", "priority desc", "created_at", "id"])
        .execute();
      await db.schema.createIndex("runs_owner_placed").on("runs").columns(["owner_id", "placed_at"]).execute();
    },
  };
}

/**
 * Drops two indexes on runs that runs_queue_turn covers (its leading columns are status, then
 * owner_id): every change of a run's status wrote each of them, and a queue pass changes
 * thousands of runs at once. runs_queue ordered priority the other way, which no query reads.
 */
function dropCoveredRunIndexes(): Migration {
  return {
    async up(db) {
      await db.schema.dropIndex("runs_queue").ifExists().execute();
      await db.schema.dropIndex("runs_status").ifExists().execute();
    },
  };
}

/**
 * The parts whose logs the retention sweep may still expire, by their end (store/logs.ts
 * partsPastRetention): the sweep read every part there ever was each minute. Parts that ended
 * without an end time of their own (none should) take their run's, so that none is left out.
 */
function logsKeptIndex(): Migration {
  return {
    async up(db: AnyDb) {
      // Frozen as written: the statuses a part has once ended, and store/logs.ts LOGS_KEPT.
      await sql`update run_devices set ended_at = (select runs.ended_at from runs where runs.id = run_devices.run_id)
        where ended_at is null and status in ('KILLED', 'FAILED', 'EXCEPTION', 'FINISHED')`.execute(db);
      await db.schema
        .createIndex("run_devices_logs_kept")
        .on("run_devices")
        .column("ended_at")
        .where(sql<boolean>`run_devices.log_count > 0 and run_devices.log_capped <> 2`)
        .execute();
    },
  };
}

/** Dashboard sign-ins (server/src/dashboard/sessions.ts). No foreign key: rotating a key deletes its row. */
function dashboardSessions(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable("dashboard_sessions")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("key_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("dashboard_sessions_expiry").on("dashboard_sessions").column("expires_at").execute();
    },
  };
}

/** Which server process holds each device's inference tunnel, so that every replica can reach it. */
function tunnelHolders(): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable("tunnel_holders")
        .addColumn("device_id", "integer", (c) => c.primaryKey())
        .addColumn("server_url", "text", (c) => c.notNull())
        .addColumn("attached_at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}

/** A Slurm device's nodes, as its agent last read them (`fedml device list` shows them). */
function deviceClusterNodes(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable("devices").addColumn("cluster_nodes_json", "text").execute();
    },
  };
}

/**
 * A row per chunk of lines instead of a row per line (store/log-chunks.ts): a fast job's
 * thousands of lines a second cost a few inserts. Stored lines become one-line chunks.
 */
function logChunks(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable("log_chunks")
        .addColumn("run_id", "integer", (c) => c.notNull())
        .addColumn("device_id", "integer", (c) => c.notNull())
        .addColumn("first_seq", "integer", (c) => c.notNull())
        .addColumn("last_seq", "integer", (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .addColumn("runs_json", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("log_chunks_pk", ["run_id", "device_id", "first_seq"])
        .execute();
      await sql`insert into log_chunks (run_id, device_id, first_seq, last_seq, text, runs_json)
        select run_id, device_id, seq, seq, text,
          '[[1,' || time || ',' || (case when stream = 'stderr' then 1 else 0 end) || ']]'
        from log_lines`.execute(db);
      await db.schema.dropTable("log_lines").execute();
    },
  };
}

class InCodeMigrations implements MigrationProvider {
  constructor(private readonly dialect: DialectName) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      "0001_initial": initialSchema(this.dialect),
      "0002_clusters": clusters(this.dialect),
      "0003_endpoints": endpointsTable(this.dialect),
      "0004_marketplace": marketplace(this.dialect),
      "0005_live_parts_index": livePartsIndex(),
      "0100_h-liveness_part_billing_times": partBillingTimes(),
      "0100_h-serving_endpoint_replicas": endpointReplicas(this.dialect),
      "0100_h-storage_workspace_blobs": workspaceBlobsAndLogQuotas(this.dialect),
      // Sorts after every 0100_ one: kysely refuses a new migration named before one already run.
      "0101_h-atomic_one_part_per_node": onePartPerNode(),
      "0102_h-cli_user_keys": userKeyLifecycle(),
      "0103_h-isolation_container_runtime": deviceContainerRuntime(),
      "0104_h-liveness_reservations": reservations(this.dialect),
      "0105_h-liveness_money_in_micros": moneyInMicros(),
      "0106_h-dash_dashboard_sessions": dashboardSessions(),
      "0106_h-wire_objects_in_db": wireObjects(this.dialect),
      "0107_h-slurm_device_cluster_nodes": deviceClusterNodes(),
      "0107_h-wire_endpoint_target_rps": endpointTargetRps(),
      "0106_h-place_queue_pass_indexes": queuePassIndexes(),
      "0107_h-place_tunnel_holders": tunnelHolders(),
      "0108_h-logs_log_chunks": logChunks(),
      "0108_h-s3_workspace_objects": workspaceObjects(),
      "0108_h-place_drop_covered_run_indexes": dropCoveredRunIndexes(),
      "0109_h-place_placement_inputs": { up: (db) => createPlacementInputs(db, this.dialect) },
      "0110_fleet_version": { up: (db) => createFleetVersion(db, this.dialect) },
      "0111_fleet_version_once_per_commit": { up: (db) => countFleetRowsOnce(db, this.dialect) },
      "0112_logs_kept_index": logsKeptIndex(),
      "0130_h-fleet-log_fleet_changes": { up: (db) => logFleetChanges(db, this.dialect) },
    };
  }
}

/** Migrates up to and including `name` (every migration when omitted). */
export async function migrateToLatest(db: AnyDb, dialect: DialectName, name?: string): Promise<void> {
  // Migrations added side by side (0100_<branch>_...) touch different tables and sort by name:
  // a database that already ran a later-sorting one must still take an earlier-sorting newcomer.
  const migrator = new Migrator({ db, provider: new InCodeMigrations(dialect), allowUnorderedMigrations: true });
  const { error, results } = name === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(name);
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
