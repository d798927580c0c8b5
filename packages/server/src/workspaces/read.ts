import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { type BlobRow, markBlobCorrupt, readChunk } from "../store/workspace-blobs.js";

export class CorruptBlob extends Error {}

/**
 * An upload's bytes in order, one chunk in memory at a time. Each chunk is checked against
 * its own sha256 before it is handed on, so bytes that changed in storage are never passed
 * along; a missing chunk or a short read ends with an error too.
 */
export async function* readBlobBytes(db: Kysely<Database>, uploadId: number, size: number): AsyncGenerator<Buffer> {
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

/**
 * A blob as a stream for an agent: verified chunk by chunk and as a whole. On a mismatch the
 * blob is marked corrupt (unusable until someone uploads the right bytes again) and the
 * stream fails, so the response is cut short of its content-length and the bad bytes are
 * never sent.
 */
export function openVerifiedBlob(db: Kysely<Database>, blob: BlobRow, onCorrupt: (why: string) => void): Readable {
  async function* verified(): AsyncGenerator<Buffer> {
    const whole = createHash("sha256");
    try {
      for await (const data of readBlobBytes(db, blob.upload_id, blob.size)) {
        whole.update(data);
        yield data;
      }
      const actual = whole.digest("hex");
      if (actual !== blob.sha256) throw new CorruptBlob(`hashes to ${actual}`);
    } catch (err) {
      if (err instanceof CorruptBlob) {
        await markBlobCorrupt(db, blob.sha256, blob.upload_id);
        onCorrupt(err.message);
      }
      throw err;
    }
  }
  return Readable.from(verified(), { objectMode: false });
}
