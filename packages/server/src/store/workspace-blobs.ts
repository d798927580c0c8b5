import { TERMINAL_RUN_STATUSES } from "@fedml/core";
import { type Kysely, type Transaction, sql } from "kysely";
import type { Database } from "./schema.js";
import { inTransaction } from "./transaction.js";

const SHA256 = /^[0-9a-f]{64}$/;

export function isSha256(value: string): boolean {
  return SHA256.test(value);
}

export type Db = Kysely<Database> | Transaction<Database>;

export interface BlobRow {
  sha256: string;
  upload_id: number;
  size: number;
  corrupt: number;
  last_used_at: number;
}

export interface UploadRow {
  id: number;
  sha256: string;
  user_id: number;
  size: number | null;
  received: number;
  updated_at: number;
}

const TERMINAL = [...TERMINAL_RUN_STATUSES];

export function findBlob(db: Db, sha256: string): Promise<BlobRow | undefined> {
  return db
    .selectFrom("workspace_blobs")
    .select(["sha256", "upload_id", "size", "corrupt", "last_used_at"])
    .where("sha256", "=", sha256)
    .executeTakeFirst();
}

/**
 * The blob, when `userId` may use it: it uploaded the bytes, or it owns a run of them.
 * Anyone else is told nothing, not even that the blob exists.
 */
export async function findUsableBlob(db: Db, sha256: string, userId: number): Promise<BlobRow | undefined> {
  const blob = await findBlob(db, sha256);
  if (!blob || blob.corrupt) return undefined;
  const owner = await db
    .selectFrom("workspace_blob_users")
    .select("user_id")
    .where("sha256", "=", sha256)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (owner) return blob;
  const run = await db
    .selectFrom("runs")
    .select("id")
    .where("workspace_sha256", "=", sha256)
    .where("owner_id", "=", userId)
    .limit(1)
    .executeTakeFirst();
  return run ? blob : undefined;
}

/** Marks a use for least-recently-used eviction; answers false when the blob is gone (evicted meanwhile). */
export async function touchBlob(db: Db, sha256: string, userId: number | null, now: number): Promise<boolean> {
  const r = await db.updateTable("workspace_blobs").set({ last_used_at: now }).where("sha256", "=", sha256).executeTakeFirst();
  if (userId !== null) {
    await db
      .updateTable("workspace_blob_users")
      .set({ last_used_at: now })
      .where("sha256", "=", sha256)
      .where("user_id", "=", userId)
      .execute();
  }
  return Number(r.numUpdatedRows) > 0;
}

export async function addBlobUser(db: Db, sha256: string, userId: number, now: number): Promise<void> {
  await db
    .insertInto("workspace_blob_users")
    .values({ sha256, user_id: userId, last_used_at: now })
    .onConflict((oc) => oc.columns(["sha256", "user_id"]).doUpdateSet({ last_used_at: now }))
    .execute();
}

export function findUpload(db: Db, sha256: string, userId: number): Promise<UploadRow | undefined> {
  return db
    .selectFrom("workspace_uploads")
    .select(["id", "sha256", "user_id", "size", "received", "updated_at"])
    .where("sha256", "=", sha256)
    .where("user_id", "=", userId)
    .orderBy("id", "desc")
    .executeTakeFirst();
}

export async function createUpload(db: Db, sha256: string, userId: number, size: number | null, now: number): Promise<UploadRow> {
  const row = await db
    .insertInto("workspace_uploads")
    .values({ sha256, user_id: userId, size, received: 0, created_at: now, updated_at: now })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { id: row.id, sha256, user_id: userId, size, received: 0, updated_at: now };
}

/**
 * Stores one chunk at the end of an upload, in one transaction, conditional on the upload
 * still ending where the writer thinks: answers false when another request got there first.
 */
export async function appendChunk(
  db: Kysely<Database>,
  uploadId: number,
  startByte: number,
  data: Buffer,
  chunkSha256: string,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable("workspace_uploads")
      .set({ received: startByte + data.length, updated_at: now })
      .where("id", "=", uploadId)
      .where("received", "=", startByte)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) return false;
    await trx
      .insertInto("workspace_chunks")
      .values({ upload_id: uploadId, start_byte: startByte, length: data.length, sha256: chunkSha256, data })
      .execute();
    return true;
  });
}

export function readChunk(
  db: Db,
  uploadId: number,
  startByte: number,
): Promise<{ length: number; sha256: string; data: Buffer } | undefined> {
  return db
    .selectFrom("workspace_chunks")
    .select(["length", "sha256", "data"])
    .where("upload_id", "=", uploadId)
    .where("start_byte", "=", startByte)
    .executeTakeFirst();
}

/** Drops an upload (or a blob's former content): its chunks and its row. */
export async function deleteUploadContent(db: Db, uploadId: number): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom("workspace_chunks").where("upload_id", "=", uploadId).execute();
    await trx.deleteFrom("workspace_uploads").where("id", "=", uploadId).execute();
  });
}

export async function markBlobCorrupt(db: Db, sha256: string, uploadId: number): Promise<void> {
  await db
    .updateTable("workspace_blobs")
    .set({ corrupt: 1 })
    .where("sha256", "=", sha256)
    .where("upload_id", "=", uploadId)
    .execute();
}

/** Workspaces that queued or running runs still need: never evicted. */
export async function liveWorkspaces(db: Db, userId?: number): Promise<Set<string>> {
  let q = db
    .selectFrom("runs")
    .select("workspace_sha256")
    .distinct()
    .where("workspace_sha256", "is not", null)
    .where("status", "not in", TERMINAL);
  if (userId !== undefined) q = q.where("owner_id", "=", userId);
  const rows = await q.execute();
  return new Set(rows.map((r) => r.workspace_sha256 as string));
}

const sumOf = (column: string) => sql<number>`cast(coalesce(sum(${sql.ref(column)}), 0) as bigint)`;

/** Bytes held: every blob and every upload in progress. */
export async function storedWorkspaceBytes(db: Db): Promise<number> {
  const blobs = await db.selectFrom("workspace_blobs").select(sumOf("size").as("n")).executeTakeFirstOrThrow();
  const uploads = await db.selectFrom("workspace_uploads").select(sumOf("received").as("n")).executeTakeFirstOrThrow();
  return Number(blobs.n) + Number(uploads.n);
}

/** Bytes charged to a user: the blobs it may use by upload, and its uploads in progress. */
export async function userWorkspaceBytes(db: Db, userId: number): Promise<number> {
  const blobs = await db
    .selectFrom("workspace_blob_users")
    .innerJoin("workspace_blobs", "workspace_blobs.sha256", "workspace_blob_users.sha256")
    .select(sumOf("workspace_blobs.size").as("n"))
    .where("workspace_blob_users.user_id", "=", userId)
    .executeTakeFirstOrThrow();
  const uploads = await db
    .selectFrom("workspace_uploads")
    .select(sumOf("received").as("n"))
    .where("user_id", "=", userId)
    .executeTakeFirstOrThrow();
  return Number(blobs.n) + Number(uploads.n);
}

/** Blobs from least to most recently used, a page at a time. */
export function blobsByLastUse(db: Db, limit: number): Promise<BlobRow[]> {
  return db
    .selectFrom("workspace_blobs")
    .select(["sha256", "upload_id", "size", "corrupt", "last_used_at"])
    .orderBy("last_used_at")
    .orderBy("sha256")
    .limit(limit)
    .execute();
}

/** A user's blobs from least to most recently used by that user. */
export function userBlobsByLastUse(db: Db, userId: number, limit: number): Promise<(BlobRow & { user_last_used_at: number })[]> {
  return db
    .selectFrom("workspace_blob_users")
    .innerJoin("workspace_blobs", "workspace_blobs.sha256", "workspace_blob_users.sha256")
    .select([
      "workspace_blobs.sha256",
      "workspace_blobs.upload_id",
      "workspace_blobs.size",
      "workspace_blobs.corrupt",
      "workspace_blobs.last_used_at",
      "workspace_blob_users.last_used_at as user_last_used_at",
    ])
    .where("workspace_blob_users.user_id", "=", userId)
    .orderBy("workspace_blob_users.last_used_at")
    .orderBy("workspace_blobs.sha256")
    .limit(limit)
    .execute();
}

/**
 * Deletes a blob unless it was used after `lastUsedAt` (a launch touches it first): answers
 * whether it went. One transaction: the blob row, who may use it and its bytes (`dropContent`).
 */
export async function deleteBlobIfUnused(
  db: Kysely<Database>,
  blob: BlobRow,
  dropContent: (db: Db, uploadId: number) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const gone = await trx
      .deleteFrom("workspace_blobs")
      .where("sha256", "=", blob.sha256)
      .where("last_used_at", "=", blob.last_used_at)
      .where("upload_id", "=", blob.upload_id)
      .executeTakeFirst();
    if (Number(gone.numDeletedRows) !== 1) return false;
    await trx.deleteFrom("workspace_blob_users").where("sha256", "=", blob.sha256).execute();
    await dropContent(trx, blob.upload_id);
    return true;
  });
}

export async function removeBlobUser(db: Db, sha256: string, userId: number): Promise<void> {
  await db.deleteFrom("workspace_blob_users").where("sha256", "=", sha256).where("user_id", "=", userId).execute();
}

export async function blobHasUsers(db: Db, sha256: string): Promise<boolean> {
  const row = await db
    .selectFrom("workspace_blob_users")
    .select("user_id")
    .where("sha256", "=", sha256)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Uploads nobody has added to since `before`: abandoned. */
export function staleUploads(db: Db, before: number, limit: number): Promise<{ id: number }[]> {
  return db.selectFrom("workspace_uploads").select("id").where("updated_at", "<", before).limit(limit).execute();
}
