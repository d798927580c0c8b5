import type { Kysely, Migration } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>;

/**
 * Workspace bytes kept in an S3-compatible store: one object per upload (an S3 multipart
 * upload until the last byte is in), and each part's length and sha256, so a read checks
 * every part before passing it on, as the database store checks its chunks.
 */
export function workspaceObjects(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable("workspace_objects")
        .addColumn("upload_id", "integer", (c) => c.primaryKey())
        .addColumn("object_key", "text", (c) => c.notNull())
        .addColumn("multipart_id", "text", (c) => c.notNull())
        .addColumn("sealed", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("dropped", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("workspace_objects_dropped").on("workspace_objects").column("dropped").execute();
      await db.schema
        .createTable("workspace_object_parts")
        .addColumn("upload_id", "integer", (c) => c.notNull())
        .addColumn("part_number", "integer", (c) => c.notNull())
        .addColumn("start_byte", "bigint", (c) => c.notNull())
        .addColumn("length", "integer", (c) => c.notNull())
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("etag", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("workspace_object_parts_pk", ["upload_id", "part_number"])
        .execute();
    },
  };
}
