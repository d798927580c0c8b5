import type { Kysely } from "kysely";
import type { Database } from "./schema.js";
import { inTransaction } from "./transaction.js";
import type { Db } from "./workspace-blobs.js";

export interface ObjectRow {
  upload_id: number;
  object_key: string;
  multipart_id: string;
  sealed: number;
  dropped: number;
}

export interface PartRow {
  part_number: number;
  start_byte: number;
  length: number;
  sha256: string;
  etag: string;
}

export function findObject(db: Db, uploadId: number): Promise<ObjectRow | undefined> {
  return db
    .selectFrom("workspace_objects")
    .select(["upload_id", "object_key", "multipart_id", "sealed", "dropped"])
    .where("upload_id", "=", uploadId)
    .executeTakeFirst();
}

/** Records the object of an upload; answers false when another request recorded one first. */
export async function insertObject(db: Db, uploadId: number, objectKey: string, multipartId: string): Promise<boolean> {
  const r = await db
    .insertInto("workspace_objects")
    .values({ upload_id: uploadId, object_key: objectKey, multipart_id: multipartId })
    .onConflict((oc) => oc.column("upload_id").doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

export function objectParts(db: Db, uploadId: number): Promise<PartRow[]> {
  return db
    .selectFrom("workspace_object_parts")
    .select(["part_number", "start_byte", "length", "sha256", "etag"])
    .where("upload_id", "=", uploadId)
    .orderBy("part_number")
    .execute();
}

export async function lastPartNumber(db: Db, uploadId: number): Promise<number> {
  const row = await db
    .selectFrom("workspace_object_parts")
    .select((eb) => eb.fn.max("part_number").as("n"))
    .where("upload_id", "=", uploadId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Records one stored part at the end of an upload, in one transaction, conditional on the
 * upload still ending where the writer thinks: answers false when another request got there first.
 */
export async function appendPart(db: Kysely<Database>, uploadId: number, part: PartRow, now: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable("workspace_uploads")
      .set({ received: part.start_byte + part.length, updated_at: now })
      .where("id", "=", uploadId)
      .where("received", "=", part.start_byte)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) return false;
    await trx
      .insertInto("workspace_object_parts")
      .values({ upload_id: uploadId, ...part })
      .execute();
    return true;
  });
}

export async function markSealed(db: Db, uploadId: number): Promise<void> {
  await db
    .updateTable("workspace_objects")
    .set({ sealed: 1 })
    .where("upload_id", "=", uploadId)
    .where("sealed", "=", 0)
    .execute();
}

/** The upload is gone from the database: its object is deleted by the next collection. */
export async function markDropped(db: Db, uploadId: number): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable("workspace_objects")
      .set({ dropped: 1 })
      .where("upload_id", "=", uploadId)
      .where("dropped", "=", 0)
      .execute();
    await trx.deleteFrom("workspace_object_parts").where("upload_id", "=", uploadId).execute();
  });
}

export function droppedObjects(db: Db, limit: number): Promise<ObjectRow[]> {
  return db
    .selectFrom("workspace_objects")
    .select(["upload_id", "object_key", "multipart_id", "sealed", "dropped"])
    .where("dropped", "=", 1)
    .limit(limit)
    .execute();
}

export async function forgetObject(db: Db, uploadId: number): Promise<void> {
  await db.deleteFrom("workspace_objects").where("upload_id", "=", uploadId).where("dropped", "=", 1).execute();
}
