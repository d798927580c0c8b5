import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Database } from "../store/schema.js";
import { inTransaction } from "../store/transaction.js";

/**
 * Job packages the official client uploads over S3 before it registers them. The S3 settings
 * are handed out unauthenticated (configs/fetch), so what lands here belongs to nobody until
 * updateApplicationFromCli claims it with an API key: each object is bounded in size, the
 * whole store in bytes, and an unclaimed object lives only a short while. Held in the
 * database, in chunks, so that the upload, the registration and the GET of one launch may
 * each reach a different server replica.
 */
export interface WireObjectLimits {
  maxObjectBytes: number;
  maxTotalBytes: number;
  ttlMs: number;
}

export const DEFAULT_WIRE_OBJECT_LIMITS: WireObjectLimits = {
  maxObjectBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  ttlMs: 30 * 60 * 1000,
};

/** Rows stay small on both databases; an object is its chunks in (part, chunk) order. */
const CHUNK_BYTES = 1024 * 1024;

type Db = Kysely<Database>;

const TOO_MANY = "the server holds too many unclaimed uploads: retry later";
const NO_UPLOAD = "no such upload (expired or never begun)";

export class WireObjects {
  constructor(
    private readonly db: Db,
    readonly limits: WireObjectLimits,
    private readonly now: () => number,
  ) {}

  private tooLarge() {
    return `object is larger than ${this.limits.maxObjectBytes} bytes`;
  }

  /** Stores an object; answers a reason when it does not fit. */
  async put(key: string, bytes: Buffer): Promise<string | null> {
    await this.expire();
    if (bytes.length > this.limits.maxObjectBytes) return this.tooLarge();
    return inTransaction(this.db, async (trx) => {
      await dropObject(trx, key);
      if ((await heldBytes(trx)) + bytes.length > this.limits.maxTotalBytes) return TOO_MANY;
      const uploadId = randomUUID();
      await trx
        .insertInto("wire_uploads")
        .values({ upload_id: uploadId, object_key: key, complete: 1, bytes: bytes.length, started_at: this.now() })
        .execute();
      await insertChunks(trx, uploadId, 1, bytes);
      return null;
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    await this.expire();
    const upload = await objectUpload(this.db, key);
    return upload ? readUpload(this.db, upload) : undefined;
  }

  /** Hands the object to its claimant and forgets it; of two claims racing, one gets it. */
  async take(key: string): Promise<Buffer | undefined> {
    await this.expire();
    return inTransaction(this.db, async (trx) => {
      const upload = await objectUpload(trx, key);
      if (!upload) return undefined;
      const bytes = await readUpload(trx, upload);
      return (await deleteUpload(trx, upload)) ? bytes : undefined;
    });
  }

  /** Begins a multipart upload of `key`; answers its upload id. */
  async startMultipart(key: string): Promise<string> {
    await this.expire();
    const uploadId = randomUUID();
    await this.db
      .insertInto("wire_uploads")
      .values({ upload_id: uploadId, object_key: key, complete: 0, bytes: 0, started_at: this.now() })
      .execute();
    return uploadId;
  }

  /** Stores one part (a part sent again replaces the earlier one); answers a reason when refused. */
  async putPart(uploadId: string, partNumber: number, bytes: Buffer): Promise<string | null> {
    await this.expire();
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) return "partNumber must be 1 to 10000";
    return inTransaction(this.db, async (trx) => {
      const upload = await openUpload(trx, uploadId);
      if (!upload) return NO_UPLOAD;
      const old = await partBytes(trx, uploadId, partNumber);
      if (upload.bytes - old + bytes.length > this.limits.maxObjectBytes) return this.tooLarge();
      if ((await heldBytes(trx)) - old + bytes.length > this.limits.maxTotalBytes) return TOO_MANY;
      await trx.deleteFrom("wire_chunks").where("upload_id", "=", uploadId).where("part_number", "=", partNumber).execute();
      await insertChunks(trx, uploadId, partNumber, bytes);
      await trx
        .updateTable("wire_uploads")
        .set({ bytes: upload.bytes - old + bytes.length })
        .where("upload_id", "=", uploadId)
        .execute();
      return null;
    });
  }

  /** Joins the listed parts, in order, into the object; answers its key, or a reason when refused. */
  async completeMultipart(uploadId: string, partNumbers: number[]): Promise<{ key: string } | { refused: string }> {
    await this.expire();
    return inTransaction(this.db, async (trx) => {
      const upload = await openUpload(trx, uploadId);
      if (!upload) return { refused: NO_UPLOAD };
      const held = new Set(
        (await trx.selectFrom("wire_chunks").select("part_number").distinct().where("upload_id", "=", uploadId).execute()).map(
          (r) => r.part_number,
        ),
      );
      const missing = partNumbers.find((n) => !held.has(n));
      if (partNumbers.length === 0 || missing !== undefined) return { refused: `part ${missing ?? "list"} was not uploaded` };
      const listed = [...new Set(partNumbers)];
      // Parts uploaded but left out of the list are not part of the object.
      await trx.deleteFrom("wire_chunks").where("upload_id", "=", uploadId).where("part_number", "not in", listed).execute();
      await dropObject(trx, upload.object_key);
      const bytes = await uploadBytes(trx, uploadId);
      const done = await trx
        .updateTable("wire_uploads")
        .set({ complete: 1, bytes })
        .where("upload_id", "=", uploadId)
        .where("complete", "=", 0)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) return { refused: NO_UPLOAD };
      return { key: upload.object_key };
    });
  }

  async abortMultipart(uploadId: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const upload = await openUpload(trx, uploadId);
      if (upload) await deleteUpload(trx, upload);
    });
  }

  /** Drops every object and unfinished upload older than the lifetime, on whichever replica runs it. */
  private async expire(): Promise<void> {
    const cutoff = this.now() - this.limits.ttlMs;
    const stale = await this.db.selectFrom("wire_uploads").select("upload_id").where("started_at", "<", cutoff).execute();
    if (stale.length === 0) return;
    const ids = stale.map((s) => s.upload_id);
    await inTransaction(this.db, async (trx) => {
      await trx.deleteFrom("wire_chunks").where("upload_id", "in", ids).execute();
      await trx.deleteFrom("wire_uploads").where("upload_id", "in", ids).execute();
    });
  }
}

interface UploadRow {
  upload_id: string;
  object_key: string;
  bytes: number;
}

/** The finished upload that is the object `key`. */
function objectUpload(db: Db, key: string): Promise<UploadRow | undefined> {
  return findUpload(db, "object_key", key, 1);
}

/** The unfinished multipart upload `uploadId`. */
function openUpload(db: Db, uploadId: string): Promise<UploadRow | undefined> {
  return findUpload(db, "upload_id", uploadId, 0);
}

function findUpload(db: Db, by: "object_key" | "upload_id", value: string, complete: 0 | 1): Promise<UploadRow | undefined> {
  return db
    .selectFrom("wire_uploads")
    .select(["upload_id", "object_key", "bytes"])
    .where(by, "=", value)
    .where("complete", "=", complete)
    .executeTakeFirst();
}

async function readUpload(db: Db, upload: UploadRow): Promise<Buffer> {
  const rows = await db
    .selectFrom("wire_chunks")
    .select("data")
    .where("upload_id", "=", upload.upload_id)
    .orderBy("part_number")
    .orderBy("chunk")
    .execute();
  return Buffer.concat(rows.map((r) => r.data));
}

/** Answers false when the upload was already gone (someone else took or dropped it). */
async function deleteUpload(db: Db, upload: UploadRow): Promise<boolean> {
  await db.deleteFrom("wire_chunks").where("upload_id", "=", upload.upload_id).execute();
  const gone = await db.deleteFrom("wire_uploads").where("upload_id", "=", upload.upload_id).executeTakeFirst();
  return Number(gone.numDeletedRows) === 1;
}

async function dropObject(db: Db, key: string): Promise<void> {
  const old = await objectUpload(db, key);
  if (old) await deleteUpload(db, old);
}

async function insertChunks(db: Db, uploadId: string, partNumber: number, bytes: Buffer): Promise<void> {
  for (let chunk = 0, at = 0; at < bytes.length || chunk === 0; chunk++, at += CHUNK_BYTES) {
    await db
      .insertInto("wire_chunks")
      .values({ upload_id: uploadId, part_number: partNumber, chunk, data: bytes.subarray(at, at + CHUNK_BYTES) })
      .execute();
  }
}

/** Bytes held by every upload, finished or not: what the total bound counts. */
async function heldBytes(db: Db): Promise<number> {
  const row = await db.selectFrom("wire_uploads").select(sql<number | string | null>`sum(bytes)`.as("total")).executeTakeFirst();
  return Number(row?.total ?? 0);
}

async function partBytes(db: Db, uploadId: string, partNumber: number): Promise<number> {
  const row = await db
    .selectFrom("wire_chunks")
    .select(sql<number | string | null>`sum(length(data))`.as("total"))
    .where("upload_id", "=", uploadId)
    .where("part_number", "=", partNumber)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

function uploadBytes(db: Db, uploadId: string): Promise<number> {
  return db
    .selectFrom("wire_chunks")
    .select(sql<number | string | null>`sum(length(data))`.as("total"))
    .where("upload_id", "=", uploadId)
    .executeTakeFirst()
    .then((row) => Number(row?.total ?? 0));
}
