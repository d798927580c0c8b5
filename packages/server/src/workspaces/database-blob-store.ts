import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { appendChunk, deleteUploadContent, readChunk } from "../store/workspace-blobs.js";
import { type BlobStore, CorruptBlob, type Db } from "./blob-store.js";

/** Rows of this size keep memory bounded on the way in and out, and are cheap on both databases. */
export const CHUNK_BYTES = 1024 * 1024;

/** The default: workspace bytes in `workspace_chunks` rows of the server's own database. */
export class DatabaseBlobStore implements BlobStore {
  readonly description = "the database";
  readonly chunkBytes = CHUNK_BYTES;
  readonly minPieceBytes = 0;

  append(db: Kysely<Database>, uploadId: number, startByte: number, data: Buffer, sha256: string, now: number): Promise<boolean> {
    return appendChunk(db, uploadId, startByte, data, sha256, now);
  }

  async seal(): Promise<void> {}

  read(db: Db, uploadId: number, size: number): AsyncGenerator<Buffer> {
    return readChunks(db, uploadId, size);
  }

  drop(db: Db, uploadId: number): Promise<void> {
    return deleteUploadContent(db, uploadId);
  }

  async collect(): Promise<number> {
    return 0;
  }

  close(): void {}
}

/** An upload's chunks in order, each checked against its own sha256; a missing chunk or a short read fails too. */
export async function* readChunks(db: Db, uploadId: number, size: number): AsyncGenerator<Buffer> {
  let at = 0;
  while (at < size) {
    const chunk = await readChunk(db, uploadId, at);
    if (!chunk) throw new CorruptBlob(`bytes from ${at} are missing`);
    const data = Buffer.isBuffer(chunk.data) ? chunk.data : Buffer.from(chunk.data as Uint8Array);
    if (data.length !== chunk.length || createHash("sha256").update(data).digest("hex") !== chunk.sha256) {
      throw new CorruptBlob(`bytes from ${at} do not match their checksum`);
    }
    yield data;
    at += data.length;
  }
  if (at !== size) throw new CorruptBlob(`holds ${at} bytes, not ${size}`);
}
