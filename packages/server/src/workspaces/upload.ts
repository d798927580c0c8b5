import { createHash, type Hash } from "node:crypto";
import type { Readable } from "node:stream";
import { FedmlError, ResultCode } from "@fedml/core";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { type UploadRow, addBlobUser, findBlob } from "../store/workspace-blobs.js";
import type { BlobStore } from "./blob-store.js";
import { compareWithBlob } from "./compare.js";
import { workspaceTooLarge } from "./limits.js";

export class UploadConflict extends FedmlError {
  constructor(
    message: string,
    readonly receivedBytes: number,
  ) {
    super(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, message, 409);
  }
}

/**
 * Appends a request body to an upload, one committed chunk at a time, so that a cut
 * connection loses at most the chunk in flight and the client resumes from `received`.
 * Answers the bytes the upload now holds: a last piece smaller than the store keeps
 * (S3's multipart minimum) that does not end the upload is not kept, and the client sends
 * it again from `received`. `stored`, when given, is fed every byte as it is committed.
 */
export async function receiveBytes(
  db: Kysely<Database>,
  blobs: BlobStore,
  upload: UploadRow,
  fromByte: number,
  body: Readable,
  maxBytes: number,
  now: () => number,
  stored?: Hash,
): Promise<number> {
  if (fromByte !== upload.received) {
    throw new UploadConflict(`upload of ${upload.sha256} continues at byte ${upload.received}, not ${fromByte}`, upload.received);
  }
  let at = fromByte;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (bytes: number) => {
    const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    // Copy: the chunk must not pin the rest of a large request buffer.
    const data = Buffer.from(all.subarray(0, bytes));
    const rest = all.subarray(bytes);
    const appended = await blobs.append(db, upload.id, at, data, createHash("sha256").update(data).digest("hex"), now());
    if (!appended) {
      throw new UploadConflict(`another request is uploading ${upload.sha256} at byte ${at}`, at);
    }
    stored?.update(data);
    at += bytes;
    pending = rest.length > 0 ? [rest] : [];
    pendingBytes = rest.length;
  };
  for await (const piece of body) {
    const buf = piece as Buffer;
    const total = at + pendingBytes + buf.length;
    if (upload.size !== null && total > upload.size) {
      throw new FedmlError(
        ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
        `upload of ${upload.sha256} sent more than the ${upload.size} bytes announced`,
        400,
      );
    }
    if (total > maxBytes) throw workspaceTooLarge(maxBytes);
    pending.push(buf);
    pendingBytes += buf.length;
    while (pendingBytes >= blobs.chunkBytes) await flush(blobs.chunkBytes);
  }
  const endsUpload = upload.size === null || at + pendingBytes === upload.size;
  if (pendingBytes > 0 && (endsUpload || pendingBytes >= blobs.minPieceBytes)) await flush(pendingBytes);
  return at;
}

/**
 * Checks a finished upload's bytes against the sha256 it was announced as and makes it the
 * blob: a new one, or the repair of a corrupted one. An upload of a blob already held just
 * adds the uploader to its users. Answers whether the bytes were new. `storedSha256` is the
 * hash of every byte, taken as each piece was committed, when one request stored them all:
 * then the bytes are not read back (each piece keeps its own sha256, and every read checks
 * those and the whole); an upload spread over requests is read back and hashed.
 */
export async function completeUpload(
  db: Kysely<Database>,
  blobs: BlobStore,
  upload: UploadRow & { size: number },
  now: number,
  storedSha256?: string,
): Promise<{ created: boolean }> {
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    await blobs.seal(db, upload.id);
    if (storedSha256 === undefined) {
      for await (const chunk of blobs.read(db, upload.id, upload.size)) {
        hash.update(chunk);
        bytes += chunk.length;
      }
    }
  } catch (err) {
    if (err instanceof FedmlError) throw err;
    await blobs.drop(db, upload.id);
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `upload of ${upload.sha256} could not be read back: ${(err as Error).message}`,
      400,
    );
  }
  const actual = storedSha256 ?? hash.digest("hex");
  if (actual !== upload.sha256 || (storedSha256 === undefined && bytes !== upload.size)) {
    await blobs.drop(db, upload.id);
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `workspace upload has sha256 ${actual}, not ${upload.sha256} as named`,
      400,
    );
  }
  const published = await publish(db, blobs, upload, now);
  // What publishing let go of (a copy held already, a damaged one replaced) goes now; a store
  // that fails here is retried by the sweep.
  await blobs.collect(db).catch(() => 0);
  return published;
}

async function publish(
  db: Kysely<Database>,
  blobs: BlobStore,
  upload: UploadRow & { size: number },
  now: number,
): Promise<{ created: boolean }> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto("workspace_blobs")
      .values({ sha256: upload.sha256, upload_id: upload.id, size: upload.size, created_at: now, last_used_at: now })
      .onConflict((oc) => oc.column("sha256").doNothing())
      .executeTakeFirst();
    let created = Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    if (!created) {
      const existing = await findBlob(trx, upload.sha256);
      // Bytes held already: compared with the stored copy before this user may use it; a
      // stored copy that differs from the verified upload was damaged and is replaced.
      const damaged =
        existing && !existing.corrupt
          ? (await compareWithBlob(trx, blobs, existing, blobs.read(trx, upload.id, upload.size), upload.size)).storedDamaged
          : false;
      if (existing && (existing.corrupt || damaged)) {
        // The right bytes again: they replace the corrupted ones.
        const swapped = await trx
          .updateTable("workspace_blobs")
          .set({ upload_id: upload.id, size: upload.size, corrupt: 0, last_used_at: now })
          .where("sha256", "=", upload.sha256)
          .where("upload_id", "=", existing.upload_id)
          .executeTakeFirst();
        created = Number(swapped.numUpdatedRows) === 1;
        if (created) await blobs.drop(trx, existing.upload_id);
      }
    }
    if (created) {
      await trx.deleteFrom("workspace_uploads").where("id", "=", upload.id).execute();
    } else {
      await blobs.drop(trx, upload.id);
    }
    await addBlobUser(trx, upload.sha256, upload.user_id, now);
    return { created };
  });
}
