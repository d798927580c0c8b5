import { createHash, randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { FedmlError, ResultCode } from "@fedml/core";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import {
  type PartRow,
  appendPart,
  droppedObjects,
  findObject,
  forgetObject,
  insertObject,
  lastPartNumber,
  markDropped,
  markSealed,
  objectParts,
} from "../store/workspace-objects.js";
import { inTransaction } from "../store/transaction.js";
import { deleteUploadContent } from "../store/workspace-blobs.js";
import { type BlobStore, CorruptBlob, type Db } from "./blob-store.js";
import { readChunks } from "./database-blob-store.js";
import { s3FailureReason } from "./s3-client.js";
import { type S3Settings, describeBucket } from "./s3-settings.js";

/** Parts of this size keep an upload's memory bounded and stay far inside S3's 10,000 parts for any workspace. */
export const PART_BYTES = 8 * 1024 * 1024;
/** S3 refuses a multipart upload whose parts other than the last are smaller. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** Dropped objects deleted per collection: a backlog drains over several sweeps. */
const COLLECT_PER_PASS = 200;

/**
 * Workspace bytes in an S3-compatible bucket that every replica reaches: one object per
 * upload, written as an S3 multipart upload one part per committed piece (so an upload
 * resumes across requests and replicas as S3's own multipart uploads do) and completed into
 * the object when the last byte is in. Each part's sha256 is kept in the database and checked
 * on every read. Bytes kept in the database before the store was configured stay readable.
 */
export class S3BlobStore implements BlobStore {
  readonly description: string;
  readonly chunkBytes = PART_BYTES;
  readonly minPieceBytes = MIN_PART_BYTES;

  constructor(
    private readonly client: S3Client,
    private readonly settings: S3Settings,
  ) {
    this.description = describeBucket(settings);
  }

  async append(
    db: Kysely<Database>,
    uploadId: number,
    startByte: number,
    data: Buffer,
    sha256: string,
    now: number,
  ): Promise<boolean> {
    const object = await this.objectFor(db, uploadId);
    const partNumber = (await lastPartNumber(db, uploadId)) + 1;
    const sent = await this.call(() =>
      this.client.send(
        new UploadPartCommand({
          Bucket: this.settings.bucket,
          Key: object.object_key,
          UploadId: object.multipart_id,
          PartNumber: partNumber,
          Body: data,
          ContentLength: data.length,
          // The store checks what arrived against what was sent.
          ContentMD5: createHash("md5").update(data).digest("base64"),
        }),
      ),
    );
    // Two requests racing to the same offset may both have sent this part number: only the
    // one whose row commits counts, and a part the other overwrote fails the completion's
    // ETag check, so the upload is refused rather than published with the wrong bytes.
    const part: PartRow = { part_number: partNumber, start_byte: startByte, length: data.length, sha256, etag: sent.ETag ?? "" };
    return appendPart(db, uploadId, part, now);
  }

  async seal(db: Kysely<Database>, uploadId: number): Promise<void> {
    const object = await findObject(db, uploadId);
    if (!object || object.sealed) return;
    const parts = await objectParts(db, uploadId);
    if (parts.length === 0) {
      // Nothing was appended: an empty upload needs no object.
      await this.call(() => this.client.send(new AbortMultipartUploadCommand(this.multipart(object))));
    } else {
      try {
        await this.client.send(
          new CompleteMultipartUploadCommand({
            ...this.multipart(object),
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.part_number, ETag: p.etag })) },
          }),
        );
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "InvalidPart" || name === "InvalidPartOrder" || name === "EntityTooSmall") {
          throw new CorruptBlob(`the store refused its parts (${name})`);
        }
        throw this.unavailable(err);
      }
    }
    await markSealed(db, uploadId);
  }

  async *read(db: Db, uploadId: number, size: number): AsyncGenerator<Buffer> {
    const object = await findObject(db, uploadId);
    if (!object) {
      yield* readChunks(db, uploadId, size);
      return;
    }
    if (!object.sealed || object.dropped) throw new CorruptBlob("its object was never completed");
    if (size === 0) return;
    const parts = await objectParts(db, uploadId);
    let body: Readable;
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: object.object_key }));
      body = got.Body as Readable;
    } catch (err) {
      if ((err as { name?: string }).name === "NoSuchKey") throw new CorruptBlob("its object is missing from the store");
      throw this.unavailable(err);
    }
    try {
      yield* verifiedParts(body, parts, size);
    } finally {
      body.destroy();
    }
  }

  async drop(db: Db, uploadId: number): Promise<void> {
    // One transaction: an object marked for collection always goes with its upload's rows.
    await inTransaction(db, async (trx) => {
      await markDropped(trx, uploadId);
      await deleteUploadContent(trx, uploadId);
    });
  }

  async collect(db: Kysely<Database>): Promise<number> {
    let freed = 0;
    for (const object of await droppedObjects(db, COLLECT_PER_PASS)) {
      await this.call(() =>
        object.sealed
          ? this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: object.object_key }))
          : this.client.send(new AbortMultipartUploadCommand(this.multipart(object))).catch((err) => {
              // Completed or aborted already (a crash between the store and the database).
              if ((err as { name?: string }).name !== "NoSuchUpload") throw err;
            }),
      );
      await forgetObject(db, object.upload_id);
      freed += 1;
    }
    return freed;
  }

  close(): void {
    this.client.destroy();
  }

  /** The upload's object, its multipart upload begun by the first piece. */
  private async objectFor(db: Kysely<Database>, uploadId: number) {
    const held = await findObject(db, uploadId);
    if (held) return held;
    const key = `${this.settings.prefix}${uploadId}-${randomUUID()}`;
    const created = await this.call(() =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.settings.bucket, Key: key, ContentType: "application/gzip" }),
      ),
    );
    const multipartId = created.UploadId ?? "";
    if (await insertObject(db, uploadId, key, multipartId)) {
      return { upload_id: uploadId, object_key: key, multipart_id: multipartId, sealed: 0, dropped: 0 };
    }
    // Another request began it first: ours is not needed.
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: key, UploadId: multipartId }));
    const other = await findObject(db, uploadId);
    if (!other) throw new CorruptBlob("its object vanished while it was begun");
    return other;
  }

  private multipart(object: { object_key: string; multipart_id: string }) {
    return { Bucket: this.settings.bucket, Key: object.object_key, UploadId: object.multipart_id };
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** The store failed (down, or refusing the server's credentials): one line for the client and the log. */
  private unavailable(err: unknown): FedmlError {
    return new FedmlError(
      ResultCode.GENERAL_ERROR,
      `workspace store ${this.description}: ${s3FailureReason(err, this.settings)}`,
      503,
    );
  }
}

/**
 * An object's bytes cut back into its parts, each checked against its sha256 before it is
 * handed on; at most one part in memory.
 */
async function* verifiedParts(body: AsyncIterable<Uint8Array>, parts: PartRow[], size: number): AsyncGenerator<Buffer> {
  let index = 0;
  let held: Buffer[] = [];
  let heldBytes = 0;
  let at = 0;
  const finish = (part: PartRow, bytes: Buffer): Buffer => {
    if (part.start_byte !== at || createHash("sha256").update(bytes).digest("hex") !== part.sha256) {
      throw new CorruptBlob(`bytes from ${part.start_byte} do not match their checksum`);
    }
    at += bytes.length;
    index += 1;
    return bytes;
  };
  for await (const piece of body) {
    let rest = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (rest.length > 0) {
      const part = parts[index];
      if (!part) throw new CorruptBlob(`holds more than its ${size} bytes`);
      const want = part.length - heldBytes;
      const take = rest.subarray(0, want);
      held.push(take);
      heldBytes += take.length;
      rest = rest.subarray(take.length);
      if (heldBytes === part.length) {
        const whole = held.length === 1 ? Buffer.from(held[0]) : Buffer.concat(held);
        held = [];
        heldBytes = 0;
        yield finish(part, whole);
      }
    }
  }
  if (index !== parts.length || heldBytes > 0 || at !== size) throw new CorruptBlob(`holds ${at + heldBytes} bytes, not ${size}`);
}
