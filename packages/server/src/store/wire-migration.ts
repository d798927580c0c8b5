import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "./db.js";

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>;

/** Autoscaling on requests per second per replica (serving_args.target_requests_per_second). */
export function endpointTargetRps(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable("endpoints").addColumn("target_rps", "integer").execute();
    },
  };
}

/**
 * The official client's uploads and registrations in the database, so that the calls of one
 * launch may reach different server replicas: S3 uploads (a single PUT is an upload of one
 * part) with their bytes in chunks, and the latest registration per (user, application).
 */
export function wireObjects(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable("wire_uploads")
        .addColumn("upload_id", "text", (c) => c.primaryKey())
        .addColumn("object_key", "text", (c) => c.notNull())
        .addColumn("complete", "integer", (c) => c.notNull())
        .addColumn("bytes", "bigint", (c) => c.notNull())
        .addColumn("started_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("wire_uploads_key").on("wire_uploads").columns(["object_key", "complete"]).execute();
      await db.schema.createIndex("wire_uploads_age").on("wire_uploads").column("started_at").execute();
      let chunks = db.schema
        .createTable("wire_chunks")
        .addColumn("upload_id", "text", (c) => c.notNull())
        .addColumn("part_number", "integer", (c) => c.notNull())
        .addColumn("chunk", "integer", (c) => c.notNull())
        .addColumn("data", dialect === "postgres" ? "bytea" : "blob", (c) => c.notNull())
        .addPrimaryKeyConstraint("wire_chunks_pk", ["upload_id", "part_number", "chunk"]);
      if (dialect === "sqlite") chunks = chunks.modifyEnd(sql`without rowid`);
      await chunks.execute();
      await db.schema
        .createTable("wire_registrations")
        .addColumn("owner_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("app_key", "text", (c) => c.notNull())
        .addColumn("yaml_text", "text", (c) => c.notNull())
        .addColumn("workspace_sha256", "text")
        .addColumn("workspace_name", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("wire_registrations_pk", ["owner_id", "app_key"])
        .execute();
    },
  };
}
